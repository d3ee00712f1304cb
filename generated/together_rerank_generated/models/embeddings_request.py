from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EmbeddingsRequest")


@_attrs_define
class EmbeddingsRequest:
    """An embeddings request.

    Example:
        {'model': 'togethercomputer/m2-bert-80M-8k-retrieval', 'input': ['How does attention work in transformers?']}

    Attributes:
        model (str): The name of the embedding model. Example: togethercomputer/m2-bert-80M-8k-retrieval.
        input_ (list[str] | str): One text, or a list of texts, to embed. Example: How does attention work in
            transformers?.
    """

    model: str
    input_: list[str] | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        input_: list[str] | str
        if isinstance(self.input_, list):
            input_ = self.input_

        else:
            input_ = self.input_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "input": input_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model")

        def _parse_input_(data: object) -> list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                input_type_1 = cast(list[str], data)

                return input_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | str, data)

        input_ = _parse_input_(d.pop("input"))

        embeddings_request = cls(
            model=model,
            input_=input_,
        )

        embeddings_request.additional_properties = d
        return embeddings_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
