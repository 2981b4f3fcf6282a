"""Character-level tokenizer: id 0 is the unknown character, the others follow code point order."""

UNKNOWN_ID = 0
UNKNOWN_CHAR = "\ufffd"


class CharTokenizer:
    def __init__(self, text: str) -> None:
        self.chars = "".join(sorted(set(text)))
        self.id_of = {char: index + 1 for index, char in enumerate(self.chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    def encode(self, text: str) -> list[int]:
        return [self.id_of.get(char, UNKNOWN_ID) for char in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(UNKNOWN_CHAR if index == UNKNOWN_ID else self.chars[index - 1] for index in ids)
