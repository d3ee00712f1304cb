from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.rerank_result import RerankResult
    from ..models.usage_data import UsageData


T = TypeVar("T", bound="RerankResponse")


@_attrs_define
class RerankResponse:
    """The ranked results of a rerank request.

    Example:
        {'id': 'rerank-5d41402abc4b2a76', 'object': 'rerank', 'model': 'Salesforce/Llama-Rank-V1', 'results': [{'index':
            1, 'relevance_score': 0.92}, {'index': 0, 'relevance_score': 0.05}], 'usage': {'prompt_tokens': 24,
            'completion_tokens': 0, 'total_tokens': 24}}

    Attributes:
        object_ (str): The kind of object; always `rerank`. Example: rerank.
        model (str): The model that ranked the documents. Example: Salesforce/Llama-Rank-V1.
        results (list[RerankResult]): The results, sorted by `relevance_score`, highest first. Example: [{'index': 1,
            'relevance_score': 0.92, 'document': None}].
        id (str | Unset): An identifier of this response. Example: oGs6Zt9-62bZhn-99529372487b1b0a.
        usage (None | Unset | UsageData): Token counts of the request, when the server reports them. Example:
            {'prompt_tokens': 24, 'completion_tokens': 0, 'total_tokens': 24}.
    """

    object_: str
    model: str
    results: list[RerankResult]
    id: str | Unset = UNSET
    usage: None | Unset | UsageData = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_data import UsageData  # noqa: PLC0415

        object_ = self.object_

        model = self.model

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        id = self.id

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
                "results": results,
            }
        )
        if id is not UNSET:
            field_dict["id"] = id
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rerank_result import RerankResult  # noqa: PLC0415
        from ..models.usage_data import UsageData  # noqa: PLC0415

        d = dict(src_dict)
        object_ = d.pop("object")

        model = d.pop("model")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = RerankResult.from_dict(results_item_data)

            results.append(results_item)

        id = d.pop("id", UNSET)

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

        rerank_response = cls(
            object_=object_,
            model=model,
            results=results,
            id=id,
            usage=usage,
        )

        rerank_response.additional_properties = d
        return rerank_response

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
