from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EmbeddingData")


@_attrs_define
class EmbeddingData:
    """The embedding of one input.

    Example:
        {'object': 'embedding', 'embedding': [0.12, -0.5, 0.3], 'index': 0}

    Attributes:
        object_ (str): The kind of object; always `embedding`. Example: embedding.
        embedding (list[float]): The vector. Example: [0.12, -0.5, 0.3].
        index (int): The position of the input this embedding belongs to. Example: 0.
    """

    object_: str
    embedding: list[float]
    index: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        embedding = self.embedding

        index = self.index

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "object": object_,
                "embedding": embedding,
                "index": index,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        object_ = d.pop("object")

        embedding = cast(list[float], d.pop("embedding"))

        index = d.pop("index")

        embedding_data = cls(
            object_=object_,
            embedding=embedding,
            index=index,
        )

        embedding_data.additional_properties = d
        return embedding_data

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
