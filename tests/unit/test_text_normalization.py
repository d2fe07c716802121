from bot.nlu.text_normalization import normalize_for_nlu


def test_traditional_characters_become_simplified():
    assert normalize_for_nlu("這個環境還能備案嗎") == "这个环境还能备案吗"


def test_full_width_latin_and_digits_become_half_width_lower_case():
    assert normalize_for_nlu("ＩＣＰ備案 ＥＮＶ－ｄｅｍｏ－０１") == "icp备案 env-demo-01"


def test_normalisation_keeps_the_length_so_offsets_stay_valid():
    text = "雲托管 選不了　ＩＰ 😀"
    assert len(normalize_for_nlu(text)) == len(text)


def test_simplified_text_is_left_alone():
    assert normalize_for_nlu("云托管怎么备案") == "云托管怎么备案"
