"""jupyter_kernel_test's conformance suite against the inference-lab kernel.

Usage: python -m unittest -v conformance  (run from test/python; kernelspec found through JUPYTER_PATH)

Every attribute the suite knows is set, so nothing is skipped. The charts are the library's own
(`import * as lab from 'inference-lab'`, resolved from the kernel's working directory inside the
repository). IopubWelcomeTests (protocol 5.4's XPUB welcome message) is not imported: the kernel
speaks protocol 5.3. clear_output goes through the kernel bridge that the library's display()
uses: the library has no public clearOutput() yet.
"""
import unittest

import jupyter_kernel_test as jkt

BRIDGE = "(globalThis as any)[Symbol.for('inference-lab.kernel')]"
VEGA_LITE = "application/vnd.vegalite.v5+json"
LAB = "import * as lab from 'inference-lab';\n"
CHART = "lab.classProbabilities(['cat', 'dog'], [0.25, 0.75], 'pets')"


class InferenceLabTests(jkt.KernelTests):
    kernel_name = "inference-lab"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("oops")'

    completion_samples = [
        {"text": "const abcdef = 1;\nabcd", "matches": {"abcdef"}},
        {"text": "Math.ma", "matches": {"max"}},
    ]

    complete_code_samples = ["1 + 1", "function f() { return 1; }", "const s = `${1 + 2}`;"]
    incomplete_code_samples = ["function f() {", "const a = [1,", "if (x) {\n  y();"]
    invalid_code_samples = ["foo())", "}", "const a = [1, 2)]"]

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": "6 * 7", "result": "42"},
        {"code": "'a' + 'b'", "result": "'ab'"},
        # A chart as a cell's value: Vega-Lite v5 (with SVG, PNG and text beside it).
        {"code": LAB + CHART, "mime": VEGA_LITE},
    ]
    code_display_data = [
        {"code": LAB + f"await lab.display({CHART});", "mime": VEGA_LITE},
        {"code": LAB + f"await lab.display({CHART});", "mime": "image/png"},
        {"code": f"{BRIDGE}.display({{'text/plain': 'x', 'image/svg+xml': '<svg/>'}}, {{}})", "mime": "image/svg+xml"},
    ]
    code_generate_error = 'throw new Error("boom")'

    code_inspect_sample = "Math.max"
    # IPython-style help (`name?`) answers with a pager payload.
    code_page_something = "Math.max?"

    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")

    code_clear_output = f"{BRIDGE}.clearOutput()"


if __name__ == "__main__":
    unittest.main()
