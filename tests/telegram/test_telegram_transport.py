"""The transport and the stand-in on their own: PTB's real Bot sending files (multipart), forms and
JSON to the stand-in, long texts split, engine messages turned into keyboards and edits."""

from __future__ import annotations

import json

import httpx
from support.botapi_standin import TOKEN, BotApiStandIn
from telegram import Bot, InputFile

from bot.telegram.transport import MAX_TEXT, send_outbound
from dialogues.engine import Button, Outbound


def make_bot(api: BotApiStandIn) -> Bot:
    return Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url)


async def test_files_go_as_multipart_and_are_recorded(standin: BotApiStandIn) -> None:
    async with make_bot(standin) as bot:
        assert bot.username == "flourish_test_bot"
        await bot.send_photo(chat_id=42, photo=InputFile(b"\x89PNG fake chart", filename="chart.png"),
                             caption="Weekly chart")
        await bot.send_document(chat_id=42, document=InputFile(b"a,b\n1,2\n", filename="export.csv"))
    photo, = standin.calls_of("sendPhoto")
    assert photo.content_type.startswith("multipart/form-data")
    assert photo.params["caption"] == "Weekly chart"
    assert photo.params["chat_id"] == 42
    assert next(iter(photo.files.values())) == ("chart.png", 15)
    document, = standin.calls_of("sendDocument")
    assert next(iter(document.files.values())) == ("export.csv", 8)
    assert [("photo" in m, "document" in m) for m in standin.chat(42)] == [(True, False),
                                                                           (False, True)]


async def test_json_and_form_bodies_are_both_understood(standin: BotApiStandIn) -> None:
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "q|v:yes"}]]}
    async with httpx.AsyncClient(trust_env=False) as client:
        url = f"{standin.base_url}{TOKEN}/sendMessage"
        as_json = await client.post(url, json={"chat_id": 7, "text": "json", "reply_markup": markup})
        as_form = await client.post(url, data={"chat_id": "7", "text": "form",
                                               "reply_markup": json.dumps(markup)})
        unknown = await client.post(f"{standin.base_url}{TOKEN}/noSuchMethod")
    assert as_json.json()["result"]["reply_markup"] == markup
    assert as_form.json()["ok"] is True
    assert unknown.status_code == 404
    first, second = standin.calls_of("sendMessage")
    assert first.button_data() == ["q|v:yes"]
    assert second.content_type.startswith("application/x-www-form-urlencoded")
    assert second.button_data() == ["q|v:yes"]
    assert second.params["chat_id"] == 7


async def test_outbound_messages_become_keyboards_edits_and_split_texts(
        standin: BotApiStandIn) -> None:
    question = Outbound(text="Pick some", kind="question", question_id="q1", buttons=[
        [Button(label="▫️ One", payload="q1|t:one"), Button(label="▫️ Two", payload="q1|t:two")],
        [Button(label="Done ✔️", payload="q1|done")]])
    long = Outbound(text="\n".join(f"line {n} " + "x" * 90 for n in range(100)))
    async with make_bot(standin) as bot:
        sent = await send_outbound(bot, 9, [long, question])
        assert len(sent) == 4
        assert sent[-1].question_id == "q1"
        ticked = question.model_copy(update={
            "replace_previous": True, "buttons": [[Button(label="✅ One", payload="q1|t:one")]]})
        edited = await send_outbound(bot, 9, [ticked], replace_ids={"q1": sent[-1].message_id})
    assert edited[0].edited
    assert edited[0].message_id == sent[-1].message_id
    texts = [c.params["text"] for c in standin.calls_of("sendMessage")]
    assert all(len(t) <= MAX_TEXT for t in texts)
    assert "".join(texts[:3]).replace("\n", "") == long.text.replace("\n", "")
    chat = standin.chat(9)
    assert len(chat) == 4
    assert chat[-1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ One"
