"""JiebaTokenizer that segments a normalised copy of the text (see text_normalization)."""
from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.text_normalization import normalize_for_nlu


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """Tokens carry normalised text (備案 -> 备案, ＩＣＰ -> icp) at the original offsets."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        import jieba

        text = normalize_for_nlu(message.get(attribute) or "")
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(text)]
        return self._apply_token_pattern(tokens)
