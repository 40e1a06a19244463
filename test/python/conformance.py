"""jupyter_kernel_test's conformance suite against the inference-lab kernel.

Usage: python -m unittest -v conformance  (run from test/python; kernelspec found through JUPYTER_PATH)

Every attribute the suite knows is set except `code_page_something` (pager payloads: a
TypeScript kernel has no `?` help pager; inspect_request serves that need). IopubWelcomeTests
(protocol 5.4's XPUB welcome message) is not imported: the kernel speaks protocol 5.3.
"""
import unittest

import jupyter_kernel_test as jkt

BRIDGE = "(globalThis as any)[Symbol.for('inference-lab.kernel')]"
VEGA_LITE = "application/vnd.vegalite.v5+json"
CHART = (
    "({ toMimeBundle() { return { 'text/plain': 'chart', '" + VEGA_LITE + "': "
    "{ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', mark: 'bar', "
    "data: { values: [{ a: 'x', b: 1 }] }, encoding: { x: { field: 'a' }, y: { field: 'b', type: 'quantitative' } } } }; } })"
)


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
        {"code": CHART, "mime": VEGA_LITE},
    ]
    code_display_data = [
        {"code": f"{BRIDGE}.display({CHART}.toMimeBundle(), {{}})", "mime": VEGA_LITE},
        {"code": f"{BRIDGE}.display({{'text/plain': 'x', 'image/png': 'iVBORw0KGgo='}}, {{}})", "mime": "image/png"},
    ]
    code_generate_error = 'throw new Error("boom")'

    code_inspect_sample = "Math.max"

    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")

    code_clear_output = f"{BRIDGE}.clearOutput()"


if __name__ == "__main__":
    unittest.main()
