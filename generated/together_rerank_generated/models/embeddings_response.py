from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.embedding_data import EmbeddingData
    from ..models.usage_data import UsageData


T = TypeVar("T", bound="EmbeddingsResponse")


@_attrs_define
class EmbeddingsResponse:
    """The embeddings of a request's inputs.

    Example:
        {'object': 'list', 'model': 'togethercomputer/m2-bert-80M-8k-retrieval', 'data': [{'object': 'embedding',
            'embedding': [0.12, -0.5, 0.3], 'index': 0}]}

    Attributes:
        object_ (str): The kind of object; always `list`. Example: list.
        model (str): The model that embedded the inputs. Example: togethercomputer/m2-bert-80M-8k-retrieval.
        data (list[EmbeddingData]): One embedding for each input, in input order. Example: [{'object': 'embedding',
            'embedding': [0.12, -0.5, 0.3], 'index': 0}].
        usage (None | Unset | UsageData): Token counts of the request, when the server reports them. Example:
            {'prompt_tokens': 24, 'completion_tokens': 0, 'total_tokens': 24}.
    """

    object_: str
    model: str
    data: list[EmbeddingData]
    usage: None | Unset | UsageData = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_data import UsageData  # noqa: PLC0415

        object_ = self.object_

        model = self.model

        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        usage: dict[str, Any] | None | Unset
        if isinstance(self.usage, Unset):
            usage = UNSET
        elif isinstance(self.usage, UsageData):
            usage = self.usage.to_dict()
        else:
            usage = self.usage

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "object": object_,
                "model": model,
                "data": data,
            }
        )
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.embedding_data import EmbeddingData  # noqa: PLC0415
        from ..models.usage_data import UsageData  # noqa: PLC0415

        d = dict(src_dict)
        object_ = d.pop("object")

        model = d.pop("model")

        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = EmbeddingData.from_dict(data_item_data)

            data.append(data_item)

        def _parse_usage(data: object) -> None | Unset | UsageData:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                usage_type_0 = UsageData.from_dict(data)

                return usage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UsageData, data)

        usage = _parse_usage(d.pop("usage", UNSET))

        embeddings_response = cls(
            object_=object_,
            model=model,
            data=data,
            usage=usage,
        )

        embeddings_response.additional_properties = d
        return embeddings_response

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
