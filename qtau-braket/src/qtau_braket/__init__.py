"""QTAU backend plugin for Amazon Braket: AWS devices by ARN and Braket's local simulators.

The entry point is `qtau_braket.plugin` (provider key `braket`). Nothing here imports the Braket
SDK or boto3 at import time.
"""



def __getattr__(name: str):
    if name == "__version__":
        from importlib.metadata import version

        return version("qtau-braket")
    raise AttributeError(f"module 'qtau_braket' has no attribute {name!r}")
