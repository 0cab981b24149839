"""Entry point of the `scripted` test plugin: its Backend.

Imports nothing but `qtau` (and this package's SDK-free modules); Qiskit is imported only when a
circuit runs. Resources with `remote: true` in their script go through a RemoteExecutor whose
provider queue lives in this process (`qtau_scripted.remote`), for tests of the tracker.
"""

from __future__ import annotations

from qtau import Backend, hookimpl

from qtau_scripted import script

PROVIDER = script.PROVIDER


class ScriptedBackend(Backend):
    provider = PROVIDER
    executor_names = (script.EXECUTOR,)
    description = "scripted queue, noise, cost and behaviour (tests)"

    def resources(self, executor, config):
        return script.resources(config)

    def executor(self, resource, config):
        if resource.remote:
            from qtau_scripted.remote import ScriptedRemoteExecutor

            return ScriptedRemoteExecutor(resource, config)
        from qtau_scripted.executor import ScriptedExecutor

        return ScriptedExecutor(resource, config)

    def status(self, resource, config):
        return script.status(resource)

    def noise(self, resource, config):
        return script.noise(resource)

    def cost(self, resource, config, shots):
        return script.cost(resource)


@hookimpl
def qtau_backends():
    return [ScriptedBackend()]
