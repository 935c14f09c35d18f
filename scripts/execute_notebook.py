#!/usr/bin/python3
"""Executes one notebook with nbclient (Debian's Jupyter) and writes the executed copy.

Used by scripts/run_notebooks.ts. Unlike `jupyter nbconvert --execute`, it keeps the executed notebook when a
cell fails and prints the failing cell's own outputs (tslab reports compile and runtime errors on the cell's
stderr stream, while the error reply itself carries an empty message).

usage: execute_notebook.py IN.ipynb OUT.ipynb KERNEL_NAME TIMEOUT_S
exit status: 0 ok, 1 a cell failed (its source and error text on stderr), 2 could not run.
"""
import re, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cell_error_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            tb = "\n".join(out.get("traceback") or [])
            parts.append(tb or f"{out.get('ename')}: {out.get('evalue')}")
    return ANSI.sub("", "\n".join(p for p in parts if p.strip())).strip()


def main():
    src, dst, kernel, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel, timeout=timeout, startup_timeout=120,
                            resources={"metadata": {"path": "."}})
    failed_index, status = None, 0
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                started = time.time()
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError:
                    failed_index, status = index, 1
                    break
                finally:
                    cell.setdefault("metadata", {})["execution_seconds"] = round(time.time() - started, 2)
    except Exception as e:  # kernel died, timeout, ...
        print(f"{src}: could not execute: {type(e).__name__}: {e}", file=sys.stderr)
        status = 2
    error_text = None
    if failed_index is not None:
        cell = nb.cells[failed_index]
        error_text = cell_error_text(cell) or "(no error text)"
        # tslab puts its errors on stderr and sends no error output: add one, so the executed copy itself
        # says which cell failed (scripts/notebook_expect.ts and any viewer see it).
        if not any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            lines = [l for l in error_text.splitlines() if l.strip()]
            summary = next((l for l in lines if re.match(r"^\w*(Error|Exception)\b", l)), lines[0] if lines else error_text)
            cell.outputs.append(nbformat.v4.new_output("error", ename="CellExecutionError", evalue=summary.strip(), traceback=lines))
    nbformat.write(nb, dst)
    if failed_index is not None:
        print(f"--- {src}, cell {failed_index}:\n{nb.cells[failed_index].source}\n--- error:\n{error_text}", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
