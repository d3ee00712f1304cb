from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RerankRequest")


@_attrs_define
class RerankRequest:
    """A rerank request. Fields that this document does not name are passed
    through to the server unchanged. `rank_fields` goes only with object
    documents, and each field it names must occur in some document (a
    rule JSON Schema cannot state; servers answer 400 otherwise).

        Example:
            {'model': 'Salesforce/Llama-Rank-V1', 'query': 'What is retrieval-augmented generation?', 'documents': ['The
                weather forecast predicts rain tomorrow.', 'RAG combines retrieval with generation for more accurate LLM
                responses.'], 'top_n': 1}

        Attributes:
            model (str): The name of the reranking model. Example: Salesforce/Llama-Rank-V1.
            query (str): The search query the documents are ranked against. Example: What is retrieval-augmented
                generation?.
            documents (Any): The candidate documents, in the order whose indices the results
                refer to: either all strings or all objects, never a mix.
                 Example: ['RAG combines retrieval with generation.', 'Python is a popular programming language.'].
            top_n (int | Unset): Return only the `top_n` most relevant results. Absent: return a
                result for every document. A value above the number of documents
                returns them all.
                 Example: 3.
            return_documents (bool | Unset): Whether each result carries its document. Absent means false. Example: False.
            rank_fields (list[str] | Unset): For object documents only: the fields whose values are ranked.
                Absent: every field is used.
                 Example: ['title', 'body'].
    """

    model: str
    query: str
    documents: Any
    top_n: int | Unset = UNSET
    return_documents: bool | Unset = UNSET
    rank_fields: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        query = self.query

        documents: Any
        documents = self.documents

        top_n = self.top_n

        return_documents = self.return_documents

        rank_fields: list[str] | Unset = UNSET
        if not isinstance(self.rank_fields, Unset):
            rank_fields = self.rank_fields

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "query": query,
                "documents": documents,
            }
        )
        if top_n is not UNSET:
            field_dict["top_n"] = top_n
        if return_documents is not UNSET:
            field_dict["return_documents"] = return_documents
        if rank_fields is not UNSET:
            field_dict["rank_fields"] = rank_fields

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model")

        query = d.pop("query")

        def _parse_documents(data: object) -> Any:
            return cast(Any, data)

        documents = _parse_documents(d.pop("documents"))

        top_n = d.pop("top_n", UNSET)

        return_documents = d.pop("return_documents", UNSET)

        rank_fields = cast(list[str], d.pop("rank_fields", UNSET))

        rerank_request = cls(
            model=model,
            query=query,
            documents=documents,
            top_n=top_n,
            return_documents=return_documents,
            rank_fields=rank_fields,
        )

        rerank_request.additional_properties = d
        return rerank_request

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
