"""QTAU backend plugin for {{ cookiecutter.sdk_name }}."""
