"""Helpers for tests, benchmarks and the bundled samples — never used by a command.

- `fill`: fill a template's input cells the way a bureau would (openpyxl), for tests and benchmarks;
- `lo_fill`: the same through LibreOffice (run with LibreOffice's own Python), to prove a file saved by
  another office suite still comes in;
- `office`: LibreOffice → PDF → PNG, to look at templates, reports and the master ledger;
- `samples`: generate sample returns for any ledger (scripts/make_samples.py, the tests' corpus).

Why a subpackage: the runtime package (what `ledger-xl` imports) stays what it needs, and a reader sees at a
glance which code is a test helper. Nothing outside `testing` imports from it (tests/test_house.py holds that).
"""
