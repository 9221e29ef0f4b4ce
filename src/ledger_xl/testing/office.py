"""Driving LibreOffice (headless): convert documents, and a fontconfig map so Chinese fonts render.

Each call gets its own user profile so parallel or crashed runs never lock each other out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..codes import Code
from ..findings import LedgerError

FONTCONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
{aliases}
</fontconfig>
"""
SERIF = ["仿宋_GB2312", "仿宋", "FangSong", "楷体_GB2312", "楷体", "KaiTi", "宋体", "SimSun", "方正小标宋简体", "方正小标宋_GBK", "华文中宋"]
SANS = ["黑体", "SimHei", "微软雅黑", "Microsoft YaHei"]


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def fontconfig_file(directory: Path) -> Path:
    """A fontconfig file mapping Windows/GB2312 font names to Noto CJK, for rendering on Linux."""
    alias = '  <alias binding="same"><family>{}</family><prefer><family>{}</family></prefer></alias>'
    lines = [alias.format(n, "Noto Serif CJK SC") for n in SERIF] + [alias.format(n, "Noto Sans CJK SC") for n in SANS]
    path = Path(directory) / "fonts.conf"
    path.write_text(FONTCONF.format(aliases="\n".join(lines)), encoding="utf-8")
    return path


def convert(src: Path, fmt: str, out_dir: Path, *, timeout: int = 180) -> Path:
    """Convert with LibreOffice (pdf, xlsx, docx…); returns the converted file's path."""
    exe = soffice_path()
    if not exe:
        raise LedgerError.of(Code.NO_LIBREOFFICE)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lx-lo-") as profile:
        env = dict(os.environ, FONTCONFIG_FILE=str(fontconfig_file(Path(profile))))
        cmd = [exe, f"-env:UserInstallation=file://{profile}/user", "--headless", "--invisible", "--norestore",
               "--convert-to", fmt, "--outdir", str(out_dir), str(src)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    target = out_dir / (Path(src).stem + "." + fmt.split(":")[0])
    if proc.returncode != 0 or not target.exists():
        raise LedgerError.of(Code.CONVERT_FAILED, name=Path(src).name, why=proc.stderr.strip()[:300])
    return target


def pdf_to_png(pdf: Path, prefix: Path, *, dpi: int = 80, first: int = 1, last: int | None = None) -> list[Path]:
    exe = shutil.which("pdftoppm")
    if not exe:
        raise LedgerError.of(Code.NO_PDFTOPPM)
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "-png", "-r", str(dpi), "-f", str(first)] + (["-l", str(last)] if last else []) + [str(pdf), str(prefix)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return sorted(Path(prefix).parent.glob(Path(prefix).name + "*.png"))
