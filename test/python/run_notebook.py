"""Execute one notebook with nbclient and print a JSON summary.

Usage: python run_notebook.py NOTEBOOK --kernel NAME --timeout SECONDS [--cwd DIR] [--out EXECUTED.ipynb]
Prints {"cells": n, "errors": [{"cell", "ename", "evalue"}], "mime_types": [...],
"outputs": [{"cell", "output_type", "mimes", "text"}], "failure": str|null}.
Errors are collected (allow_errors) so one run reports all of them.
"""
import argparse
import json
import os
import traceback

import nbformat
from nbclient import NotebookClient


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--kernel", default="inference-lab")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--cwd", default=None)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    nb = nbformat.read(a.notebook, as_version=4)
    cwd = a.cwd or os.path.dirname(os.path.abspath(a.notebook))
    client = NotebookClient(
        nb,
        kernel_name=a.kernel,
        timeout=a.timeout,
        allow_errors=True,
        resources={"metadata": {"path": cwd}},
    )
    failure = None
    try:
        client.execute()
    except Exception:
        failure = traceback.format_exc()

    errors, mimes, outputs = [], set(), []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = out.get("text") if out.get("output_type") == "stream" else data.get("text/plain")
            outputs.append({"cell": i, "output_type": out.get("output_type"), "mimes": sorted(data.keys()),
                            "text": (text if isinstance(text, str) else "".join(text or []))[:500]})
            if out.get("output_type") == "error":
                errors.append({"cell": i, "ename": out.get("ename"), "evalue": out.get("evalue")})
            if out.get("output_type") in ("display_data", "execute_result"):
                mimes.update(out.get("data", {}).keys())
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        nbformat.write(nb, a.out)
    print(json.dumps({
        "cells": len(nb.cells),
        "errors": errors,
        "mime_types": sorted(mimes),
        "outputs": outputs,
        "failure": failure,
    }))


if __name__ == "__main__":
    main()
