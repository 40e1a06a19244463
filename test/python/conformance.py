"""jupyter_kernel_test's conformance suite against the inference-lab kernel.

Usage: python -m unittest conformance  (run from test/python, kernelspec found through JUPYTER_PATH)
"""
import unittest
import jupyter_kernel_test as jkt

class InferenceLabTests(jkt.KernelTests):
    kernel_name = "inference-lab"
    language_name = "typescript"
    file_extension = ".ts"
    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("oops")'
    completion_samples = [{"text": "const abcdef = 1;\nabcd", "matches": {"abcdef"}}]
    complete_code_samples = ["1 + 1", "function f() { return 1; }"]
    incomplete_code_samples = ["function f() {"]
    code_display_data = [{"code": "(globalThis as any)[Symbol.for('inference-lab.kernel')].display({'text/plain': 'x', 'image/png': 'iVBOR'}, {})", "mime": "image/png"}]
    code_execute_result = [{"code": "6 * 7", "result": "42"}]
    code_generate_error = 'throw new Error("boom")'
    code_inspect_sample = "Math.max"
    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")
    code_page_something = None
    code_clear_output = "(globalThis as any)[Symbol.for('inference-lab.kernel')].clearOutput()"

if __name__ == "__main__":
    unittest.main()
