"""What the backend takes for the same datapoint: same dataset, sortIndex and content."""

from __future__ import annotations

from rapidata_async._transport import Transport, TransportSettings
from rapidata_async._wire import dataset as wire
from rapidata_async._wire.common import TextAssetInput
from rapidata_async.local import LocalBackend


def datapoint(text: str, sort_index: int) -> wire.CreateDatapointInput:
    asset = TextAssetInput(text=text)
    return wire.CreateDatapointInput(
        segments=[wire.DatasetSegmentInput(key="asset", kind="Asset", asset=asset)],
        sort_index=sort_index,
    )


async def test_repeat_is_the_same_datapoint_other_content_is_new(backend: LocalBackend) -> None:
    settings = TransportSettings(
        api_url=backend.url,
        auth_url=backend.url,
        client_id=backend.client_id,
        client_secret=backend.client_secret,
    )
    async with Transport(settings) as t:
        ds = await t.request(
            "POST",
            "/dataset",
            op_id="dataset_post",
            json=wire.CreateDatasetInput(name="identity"),
            response_type=wire.CreateDatasetOutput,
        )
        path = f"/dataset/{ds.dataset_id}/datapoint"

        async def create(body: wire.CreateDatapointInput) -> str:
            out = await t.request(
                "POST",
                path,
                op_id="dataset_dataset_id_datapoint_post",
                json=body,
                response_type=wire.CreateDatapointOutput,
            )
            return out.datapoint_id

        first = await create(datapoint("hello", 0))
        assert await create(datapoint("hello", 0)) == first  # a retry
        other = await create(datapoint("renumbered retry", 0))  # the official client's retry
        assert other != first
    assert await backend.store.datasets.datapoint_count(ds.dataset_id) == 2
