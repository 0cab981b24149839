"""Entry point of the `scripted` test plugin: hook implementations only.

Imports nothing but `qtau` (and this package's SDK-free modules); Qiskit is imported only when a
circuit runs.
"""

from __future__ import annotations

from qtau import ExecutorInfo, hookimpl

from qtau_scripted import script

PROVIDER = script.PROVIDER


@hookimpl
def qtau_executors():
    return [ExecutorInfo(script.EXECUTOR, PROVIDER, "scripted queue, noise, cost and behaviour (tests)")]


@hookimpl
def qtau_resources(executor, config):
    if executor != script.EXECUTOR:
        return None
    return script.resources(config)


@hookimpl
def qtau_create_executor(resource, config):
    if resource.provider != PROVIDER:
        return None
    from qtau_scripted.executor import ScriptedExecutor

    return ScriptedExecutor(resource, config)


@hookimpl
def qtau_resource_status(resource):
    if resource.provider != PROVIDER:
        return None
    return script.status(resource)


@hookimpl
def qtau_noise_profile(resource):
    if resource.provider != PROVIDER:
        return None
    return script.noise(resource)


@hookimpl
def qtau_cost_estimate(resource):
    if resource.provider != PROVIDER:
        return None
    return script.cost(resource)
