"""Plugin loading: isolation of loads and calls, strict mode, allow/block lists, rebuild on workers."""

import pytest
from qtau.errors import PluginError, UnknownExecutorError
from qtau.plugins import PluginHost, host_for, missing_plugins


def test_broken_import_is_recorded_and_others_still_load(plugin_dir):
    host = PluginHost(strict=False)
    host.register_module("broken", "qtau_t_broken_import")
    host.register_module("good", "qtau_t_good")
    assert host.names == ("good",)
    assert [(f.plugin, f.stage, f.error_type) for f in host.failures] == [("broken", "load", "ImportError")]
    assert host.find_executor("good_exec").provider == "good"


def test_broken_hook_is_isolated_from_the_fan_out(plugin_dir):
    host = PluginHost(strict=False)
    host.register_module("good", "qtau_t_good")
    host.register_module("buggy", "qtau_t_broken_hook")
    assert [i.name for i in host.executors()] == ["good_exec"]
    assert host.failures[0].plugin == "buggy" and "plugin bug" in host.failures[0].message


def test_strict_mode_raises_naming_the_plugin(plugin_dir, monkeypatch):
    monkeypatch.setenv("QTAU_STRICT_PLUGINS", "1")
    host = PluginHost()
    with pytest.raises(PluginError) as info:
        host.register_module("broken", "qtau_t_broken_import")
    assert info.value.plugin == "broken"
    assert "QTAU_STRICT_PLUGINS" in str(info.value)


def test_unknown_executor_lists_known_ones_and_the_distribution(plugin_dir):
    host = PluginHost(strict=False)
    host.register_module("good", "qtau_t_good")
    with pytest.raises(UnknownExecutorError) as info:
        host.find_executor("braket_sv1")
    text = str(info.value)
    assert "good_exec" in text and "pip install qtau-braket" in text
    assert info.value.field == "quantum.executor" and info.value.value == "braket_sv1"


def test_unknown_executor_without_known_distribution_lists_first_party_ones(plugin_dir):
    host = PluginHost(strict=False)
    with pytest.raises(UnknownExecutorError) as info:
        host.find_executor("warp_drive")
    assert "qtau-qiskit" in str(info.value) and "none (no backend plugin is installed)" in str(info.value)


def test_allow_and_block_lists_filter_installed_entry_points(monkeypatch):
    monkeypatch.setenv("QTAU_PLUGINS", "qiskit")
    assert PluginHost.from_environment().names == ("qiskit",)
    monkeypatch.delenv("QTAU_PLUGINS")
    monkeypatch.setenv("QTAU_BLOCK_PLUGINS", "qiskit")
    assert "qiskit" not in PluginHost.from_environment().names


def test_host_rebuilds_from_its_spec_once_per_process(plugin_dir):
    host = PluginHost(strict=False)
    host.register_module("good", "qtau_t_good")
    spec = host.spec()
    rebuilt = host_for(spec)
    assert rebuilt.names == ("good",) and host_for(spec) is rebuilt
    assert missing_plugins(spec) == []


def test_missing_plugins_names_what_cannot_be_imported(plugin_dir):
    host = PluginHost(strict=False)
    host.register_module("good", "qtau_t_good")
    spec = type(host.spec())(plugins=(("gone", "qtau_t_not_installed"),))
    [problem] = missing_plugins(spec)
    assert problem.startswith("gone (qtau_t_not_installed)")


def test_a_misspelled_hook_is_reported_not_silently_ignored(plugin_dir):
    host = PluginHost(strict=False)
    host.register_module("typo", "qtau_t_misspelled")
    host.register_module("good", "qtau_t_good")
    assert host.names == ("good",)
    [failure] = host.failures
    assert failure.plugin == "typo" and "qtau_resource" in failure.message
