"""QTAU backend plugin for {{ cookiecutter.sdk_name }}. The entry point is `{{ cookiecutter.module_name }}.plugin`."""
