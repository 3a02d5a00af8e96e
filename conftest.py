"""pytest's collection settings for the whole clone (the tests' fixtures are in tests/conftest.py)."""

# The deprecated module aliases warn when imported, as they should. They hold no doctest, so --doctest-modules
# does not import them; tests/monitoring/test_plotting.py imports each one and checks its warning.
collect_ignore = ["warmup_plugins/plotting.py", "warmup_plugins/tensorboard.py", "warmup_plugins/distributed.py"]
