"""Build a *source-only* ``vbaProject.bin`` on Linux with LibreOffice (a stop-gap, see README).

Linux cannot compile VBA. LibreOffice can, however, replace the source of an existing module in
an .xlsm and save it again, writing a new vbaProject.bin that holds source only (Excel
recompiles it when it opens the file). This script takes xlwings' own standalone template
(``xlwings/quickstart_standalone.xlsm``: the BSD module ``xlwings`` with ``RunPython``, the
``Dictionary`` class and a ``Module1``), puts the Subs of ``macros/BmsExcel.bas`` into
``Module1`` (LibreOffice cannot add a module and save), saves, and extracts the bin.

Run it with a Python that has LibreOffice's ``uno`` (Debian: ``apt-get install
libreoffice-calc-nogui python3-uno``; then ``/usr/bin/python3``)::

    /usr/bin/python3 macros/tools/build_vba_project_libreoffice.py \\
        --template .venv/lib/python3.11/site-packages/xlwings/quickstart_standalone.xlsm \\
        --out macros/vbaProject-libreoffice.bin

NOT verified in Excel: the preferred vbaProject.bin is compiled once in real Excel (README).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BAS = HERE.parent / "BmsExcel.bas"


def module_body(bas: Path) -> str:
    """The .bas source without ``Attribute VB_*`` lines, LF line endings."""
    text = bas.read_bytes().decode("cp1252").replace("\r\n", "\n")
    return "\n".join(line for line in text.split("\n") if not line.startswith("Attribute VB_"))


def build(template: Path, out: Path, bas: Path = BAS) -> None:
    """Replace ``Module1`` of ``template`` with ``bas`` in LibreOffice and save the bin to ``out``."""
    import uno  # type: ignore[import-not-found]
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    def prop(name: str, value: object) -> PropertyValue:
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = work / "in.xlsm"
        shutil.copyfile(template, src)
        pipe = f"bmsvba{os.getpid()}"
        office = subprocess.Popen(
            [
                "soffice",
                "--headless",
                "--norestore",
                "--nologo",
                f"-env:UserInstallation=file://{work}/profile",
                f"--accept=pipe,name={pipe};urp;",
            ]
        )
        try:
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext(
                "com.sun.star.bridge.UnoUrlResolver", local
            )
            for _ in range(120):
                try:
                    ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                    break
                except Exception:
                    time.sleep(0.5)
            else:
                raise SystemExit("LibreOffice did not start")
            desktop = ctx.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", ctx
            )
            doc = desktop.loadComponentFromURL(
                uno.systemPathToFileUrl(str(src)),
                "_blank",
                0,
                (prop("Hidden", True), prop("MacroExecutionMode", 4)),
            )
            libs = doc.BasicLibraries
            lib = libs.getByName("VBAProject")
            old = lib.getByName("Module1")
            header = [
                line
                for line in old.split("\n")
                if line.startswith(("Rem Attribute", "Option VBASupport"))
            ]
            body = [
                line for line in module_body(bas).split("\n") if line.strip() != "Option Explicit"
            ]
            lib.replaceByName("Module1", "\n".join([*header, "Option Explicit", *body]))
            target = work / "out.xlsm"
            doc.storeToURL(
                uno.systemPathToFileUrl(str(target)),
                (prop("FilterName", "Calc MS Excel 2007 VBA XML"),),
            )
            doc.close(True)
            with zipfile.ZipFile(target) as zf:
                out.write_bytes(zf.read("xl/vbaProject.bin"))
        finally:
            with contextlib.suppress(Exception):
                desktop.terminate()
            office.terminate()
            office.wait(30)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bas", type=Path, default=BAS)
    args = parser.parse_args(argv)
    build(args.template, args.out, args.bas)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
