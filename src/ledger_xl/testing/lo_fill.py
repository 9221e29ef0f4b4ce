"""Fill a template through LibreOffice itself, as a person at a spreadsheet would (run by Debian's python3).

    /usr/bin/python3 lo_fill.py IN.xlsx OUT.xlsx VALUES.json

VALUES.json maps defined names to what is typed. Text is entered with setFormula, which LibreOffice
parses exactly like typed input ("18%" becomes a percentage, "2024-06-30" a date); text beginning with
"=" is entered with setString so it stays text, unless given as {"typed": "=…"}: then it is entered as typed at
the keyboard (a formula; "=问题" shows #NAME?), and {"keys": "15%"} is typed into the selected cell through Calc's
input line (.uno:EnterString), which also gives the cell the format of what it recognised. Then the file is saved as .xlsx (Calc Office Open XML).
This module imports only the standard library and uno, so it runs outside the project's environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def main(src: str, dst: str, values_json: str) -> int:
    import uno
    from com.sun.star.beans import PropertyValue

    def prop(name: str, value: object) -> PropertyValue:
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    with open(values_json, encoding="utf-8") as fh:
        values = json.load(fh)
    profile = tempfile.mkdtemp(prefix="lx-uno-")
    port = 20000 + os.getpid() % 20000
    soffice = os.environ.get("SOFFICE", "soffice")
    proc = subprocess.Popen([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible", "--norestore",
                             "--nologo", f"--accept=socket,host=127.0.0.1,port={port};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        for _ in range(300):
            try:
                ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.1)
        if ctx is None:
            print("could not connect to LibreOffice", file=sys.stderr)
            return 3
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(src)), "_blank", 0, (prop("Hidden", True),))
        named = doc.NamedRanges
        dispatcher = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
        for name, value in values.items():
            cell = named.getByName(name).getReferredCells().getCellByPosition(0, 0)
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, dict) and "keys" in value:
                _at_the_keyboard(doc, dispatcher, cell, str(value["keys"]), prop)
            elif isinstance(value, dict):
                cell.setFormula(str(value["typed"]))
            elif isinstance(value, int | float):
                cell.setValue(value)
            elif str(value).startswith("="):
                cell.setString(str(value))
            else:
                cell.setFormula(str(value))
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(dst)), (prop("FilterName", "Calc Office Open XML"),))
        doc.close(True)
        with contextlib.suppress(Exception):  # the bridge drops as LibreOffice exits
            desktop.terminate()
        return 0
    finally:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _at_the_keyboard(doc: object, dispatcher: object, cell: object, keys: str, prop: object) -> None:
    """Enter `keys` into the cell through Calc's own input handling, as a person typing there and pressing
    Enter (.uno:EnterString on the selected cell): what is recognised also sets the cell's number format
    ("15%" typed into a plain cell makes it a percentage cell), which setFormula does not do."""
    controller = doc.getCurrentController()  # type: ignore[attr-defined]
    controller.select(cell)
    dispatcher.executeDispatch(controller.getFrame(), ".uno:EnterString", "", 0,  # type: ignore[attr-defined]
                               (prop("StringName", keys),))  # type: ignore[operator]


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
