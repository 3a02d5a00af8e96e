"""``warmup_plugins.fastai`` is optional: a clear ImportError without fastai, and no fastai import elsewhere."""

import subprocess
import sys
import textwrap


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_without_fastai_the_error_names_the_extra():
    result = run_python(
        """
        import sys
        sys.modules["fastai"] = None  # as if fastai were not installed
        import warmup_plugins, warmup_plugins.torch  # the rest of the library still imports
        try:
            import warmup_plugins.fastai
        except ImportError as error:
            print("ImportError:", error)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "ImportError: warmup_plugins.fastai needs fastai" in result.stdout
    assert "pip install fastai" in result.stdout


def test_the_core_and_torch_adapter_do_not_import_fastai():
    result = run_python(
        """
        import sys
        import warmup_plugins, warmup_plugins.torch
        print(sorted(m for m in sys.modules if m == "fastai" or m.startswith("fastai.")))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
