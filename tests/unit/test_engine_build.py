"""tools/engine_build.py: the local engine's wheel is named by all that makes it what it is,
and built for the portable baseline only."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tools import engine_build

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_version_built_is_the_one_pyproject_pins() -> None:
    local = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["local"]
    assert f"llama-cpp-python[server]=={engine_build.VERSION}" in local


def test_x86_64_is_built_for_avx2_without_native_amx_or_avx512() -> None:
    flags = engine_build.cmake_flags("x86_64")
    assert "-DGGML_NATIVE=OFF" in flags
    for wanted in ("AVX", "AVX2", "FMA", "F16C", "BMI2"):
        assert f"-DGGML_{wanted}=ON" in flags
    switched_on = [flag for flag in flags if flag.endswith("=ON")]
    assert not [flag for flag in switched_on if "AMX" in flag or "AVX512" in flag]
    # Every AMX and AVX-512 option named, so a new llama.cpp default cannot turn one on.
    for off in ("AMX_TILE", "AMX_INT8", "AMX_BF16", "AVX512", "AVX512_VNNI", "AVX_VNNI"):
        assert f"-DGGML_{off}=OFF" in flags


def test_other_machines_build_without_native_and_say_nothing_more() -> None:
    assert engine_build.cmake_flags("aarch64") == ("-DGGML_NATIVE=OFF",)


def test_the_cache_folder_changes_with_flags_compiler_and_machine() -> None:
    key = engine_build.cache_key("x86_64", "gcc-12.2.0")
    assert key.startswith(f"llama-cpp-python-{engine_build.VERSION}_cmake-")
    assert key.endswith("_gcc-12.2.0_x86_64")
    assert engine_build.cache_key("x86_64", "gcc-13.1.0") != key
    assert engine_build.cache_key("aarch64", "gcc-12.2.0") != key


def test_the_cache_lives_outside_the_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TLFIF_ENGINE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert engine_build.cache_root() == tmp_path / "tlfif" / "engine"
    monkeypatch.setenv("TLFIF_ENGINE_CACHE", str(tmp_path / "elsewhere"))
    assert engine_build.cache_root() == tmp_path / "elsewhere"


def test_a_cached_wheel_is_found_and_a_missing_one_is_not(tmp_path: Path) -> None:
    assert engine_build.find_wheel(tmp_path) is None
    wheel = tmp_path / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"
    wheel.write_bytes(b"")
    assert engine_build.find_wheel(tmp_path) == wheel
