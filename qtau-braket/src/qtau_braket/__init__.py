"""QTAU backend plugin for Amazon Braket: AWS devices by ARN and Braket's local simulators.

The entry point is `qtau_braket.plugin` (provider key `braket`). Nothing here imports the Braket
SDK or boto3 at import time.
"""

__version__ = "0.1.0"
