from inference.engine import resolve_flash_attn


def test_auto_turns_flash_attention_off_on_the_cpu():
    assert resolve_flash_attn("auto", gpu_layers=0) == "off"


def test_auto_leaves_the_choice_to_llama_cpp_with_a_gpu():
    assert resolve_flash_attn("auto", gpu_layers=-1) == "auto"
    assert resolve_flash_attn("auto", gpu_layers=20) == "auto"


def test_an_explicit_setting_is_kept():
    assert resolve_flash_attn("on", gpu_layers=0) == "on"
    assert resolve_flash_attn("off", gpu_layers=-1) == "off"
