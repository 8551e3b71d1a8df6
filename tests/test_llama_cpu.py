"""llama.cpp on every x86-64 CPU: the build never carries AMX or -march=native, the
wheel is keyed by the instructions it uses, and the load keeps AMX repacking off.

Whatever CPU runs these tests, they prove the fix is in effect: the build flags in
use, the parameters the model was loaded with, and a fixed-seed answer that is text.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import llama_cpp
import pytest

from bot.brain import selftest
from bot.brain.llama_cpu import (build_has_amx, model_params, parse_system_info, plan,
                                 read_cpu_flags)
from bot.brain.llamacpp_backend import LlamaCppBackend
from bot.config.models import LlamaCppConfig

ROOT = Path(__file__).resolve().parents[1]


def _load_build_script():
    spec = importlib.util.spec_from_file_location("llama_build", ROOT / "scripts" / "llama_build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


build = _load_build_script()

# /proc/cpuinfo flags of three CPU classes (abridged to what matters)
SAPPHIRE_RAPIDS = ("fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma bmi2 avx2 avx_vnni avx512f avx512cd "
                   "avx512vl avx512dq avx512bw avx512vbmi avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8")
ZEN3 = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma bmi2 avx2"
SANDY_BRIDGE = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx"


def cpuinfo(flags: str) -> str:
    return f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n"


def test_the_build_never_uses_native_or_amx():
    for flags in (SAPPHIRE_RAPIDS, ZEN3, SANDY_BRIDGE):
        args = build.cmake_args(build.cpu_flags(cpuinfo(flags)), "x86_64")
        assert "-DGGML_NATIVE=OFF" in args
        for amx in ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16"):
            assert f"-D{amx}=OFF" in args and f"-D{amx}=ON" not in args


def test_the_build_names_exactly_the_instructions_the_cpu_has():
    spr = build.cmake_args(build.cpu_flags(cpuinfo(SAPPHIRE_RAPIDS)), "x86_64")
    assert "-DGGML_AVX512=ON" in spr and "-DGGML_AVX512_BF16=ON" in spr and "-DGGML_AVX2=ON" in spr
    zen3 = build.cmake_args(build.cpu_flags(cpuinfo(ZEN3)), "x86_64")
    assert "-DGGML_AVX2=ON" in zen3 and "-DGGML_AVX512=OFF" in zen3
    old = build.cmake_args(build.cpu_flags(cpuinfo(SANDY_BRIDGE)), "x86_64")
    assert "-DGGML_AVX=ON" in old and "-DGGML_AVX2=OFF" in old and "-DGGML_FMA=OFF" in old


def test_a_wheel_is_only_reused_by_a_cpu_with_the_same_instructions():
    keys = {build.key(build.cpu_flags(cpuinfo(f)), "x86_64") for f in (SAPPHIRE_RAPIDS, ZEN3, SANDY_BRIDGE)}
    assert len(keys) == 3
    # AMX alone makes no difference: it is never built
    no_amx = SAPPHIRE_RAPIDS.replace(" amx_bf16 amx_tile amx_int8", "")
    assert build.key(build.cpu_flags(cpuinfo(no_amx)), "x86_64") == \
        build.key(build.cpu_flags(cpuinfo(SAPPHIRE_RAPIDS)), "x86_64")
    # flags that ggml does not use do not split the cache either
    assert build.key(build.cpu_flags(cpuinfo(ZEN3 + " sha_ni rdrand")), "x86_64") == \
        build.key(build.cpu_flags(cpuinfo(ZEN3)), "x86_64")


def installed_features() -> dict[str, str]:
    return parse_system_info(llama_cpp.llama_print_system_info().decode())


# ggml's build option → the name llama.cpp's system info gives it
SYSTEM_INFO_NAME = {"GGML_AVX": "AVX", "GGML_AVX2": "AVX2", "GGML_F16C": "F16C", "GGML_FMA": "FMA",
                    "GGML_BMI2": "BMI2", "GGML_AVX_VNNI": "AVX_VNNI", "GGML_AVX512": "AVX512",
                    "GGML_AVX512_VBMI": "AVX512_VBMI", "GGML_AVX512_VNNI": "AVX512_VNNI",
                    "GGML_AVX512_BF16": "AVX512_BF16"}


@pytest.mark.skipif(build.platform.machine() != "x86_64", reason="x86 build flags")
def test_the_installed_llama_cpp_is_the_build_setup_makes_for_this_cpu():
    """The wheel in use was built by scripts/llama_build.py's arguments for this very CPU."""
    feats = installed_features()
    assert not build_has_amx(feats), feats
    chosen = set(build.x86_options(build.cpu_flags(Path("/proc/cpuinfo").read_text())))
    for option, name in SYSTEM_INFO_NAME.items():
        if name in feats or option in chosen:
            assert (feats.get(name) == "1") == (option in chosen), (option, feats)


def test_amx_in_the_build_and_the_cpu_turns_repacking_off():
    amx_build = parse_system_info("CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 |")
    plain_build = parse_system_info("CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | REPACK = 1 |")
    amx_cpu = build.cpu_flags(cpuinfo(SAPPHIRE_RAPIDS))
    zen = build.cpu_flags(cpuinfo(ZEN3))
    assert plan("auto", amx_build, amx_cpu).extra_buffers is False
    assert plan("auto", amx_build, zen).extra_buffers is True  # AMX code, but no AMX to run it
    assert plan("auto", plain_build, amx_cpu).extra_buffers is True
    assert plan("on", amx_build, amx_cpu).extra_buffers is True
    assert plan("off", plain_build, zen).extra_buffers is False


def test_this_machine_reads_its_own_cpu():
    if Path("/proc/cpuinfo").exists():
        assert read_cpu_flags()  # the flags line was found


def test_model_params_only_change_inside_the_block():
    import llama_cpp.llama_cpp as lib  # the module whose defaults Llama() reads

    with model_params(extra_buffers=False):
        assert lib.llama_model_default_params().use_extra_bufts is False
    assert lib.llama_model_default_params().use_extra_bufts is True


@pytest.mark.parametrize("setting", ["off", "auto"])
def test_the_model_loads_as_planned_and_answers_sane_text(setting):
    backend = LlamaCppBackend(LlamaCppConfig(n_ctx=512, seed=1234, extra_buffers=setting))
    backend._load_sync()
    try:
        assert backend.cpu_plan is not None
        assert backend.extra_buffers_in_use is backend.cpu_plan.extra_buffers
        if setting == "off":
            assert backend.extra_buffers_in_use is False
        out = backend._llm.create_chat_completion(
            messages=[{"role": "user", "content": selftest.PROMPT}], max_tokens=selftest.MAX_TOKENS,
            temperature=0.0, seed=selftest.SEED)
        text = out["choices"][0]["message"]["content"]
        assert selftest.looks_like_text(text), text
    finally:
        backend._llm.close()


def test_the_text_check_tells_text_from_garbage():
    assert selftest.looks_like_text("Red, orange and yellow are three colours of the rainbow.")
    assert not selftest.looks_like_text("ĠĠĠ<unk><unk> zxqv wqpt ffkj brrzt")
    assert not selftest.looks_like_text("!!!!!!!!!!!!!!!!")
    assert not selftest.looks_like_text("")


def test_the_self_test_answers_in_a_child_process():
    result = selftest.run("auto")
    assert result.ok, (result.detail, result.fix)
    assert "AVX" in result.system_info or "NEON" in result.system_info or "CPU" in result.system_info
    assert selftest.looks_like_text(result.text)


def test_a_native_crash_is_a_named_problem_with_its_fix():
    crashed = subprocess.run([sys.executable, "-c", "import ctypes; ctypes.string_at(0)"],
                             capture_output=True, text=True)
    assert crashed.returncode < 0  # a real segfault
    verdict = selftest.interpret(crashed)
    assert not verdict.ok
    assert "SIGSEGV" in verdict.detail and "extra_buffers: off" in verdict.fix
