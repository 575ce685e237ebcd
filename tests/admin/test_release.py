"""Release and rejection from the admin: an electronic signature (21 CFR Part 11) through batch_release/reject."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from products.choices import BatchStatus, CoiStatus, Role, SignatureMeaning
from products.models import Batch, CustodyRecord, ReleaseTest, Signature, SignatureFailure
from products.rules.hashchain import digest
from products.services.batches import release_review
from tests import journey
from tests.admin.conftest import form_data, messages_of
from tests.admin.helpers import url
from tests.dbowner import owner_sql
from tests.factories import UserFactory
from tests.journey import PASSING_QC, record_qc, started_batch

pytestmark = pytest.mark.django_db


def release_url(batch: Batch) -> str:
    return reverse("admin:products_batch_release", args=[batch.pk])


def reject_url(batch: Batch) -> str:
    return reverse("admin:products_batch_reject", args=[batch.pk])


def sign(client, batch: Batch, password: str, meaning: str = "Released for infusion", **extra):
    return client.post(release_url(batch), {"password": password, "meaning": meaning, **extra}, follow=True)


def test_the_batch_page_offers_release_and_reject(client_for, world):
    batch = started_batch(world)
    page = client_for(world.qa).get(url(Batch, "change", batch.pk))
    assert release_url(batch).encode() in page.content
    assert reject_url(batch).encode() in page.content

    form = client_for(world.qa).get(release_url(batch))
    assert form.status_code == 200
    assert b'type="password"' in form.content
    assert b"No result yet" in form.content


def test_release_with_the_right_password_releases_and_records_the_signature(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)

    response = sign(client_for(world.qa), batch, world.password, "All release tests passed; released.")

    batch.refresh_from_db()
    assert batch.status == BatchStatus.RELEASED
    signature = batch.release_signature
    assert signature.signer == world.qa and signature.meaning == SignatureMeaning.RELEASE
    assert signature.statement == "All release tests passed; released."
    assert signature.printed_name == world.qa.get_full_name()
    batch.chain.refresh_from_db()
    assert batch.chain.status == CoiStatus.RELEASED
    assert response.redirect_chain[-1][0] == url(Batch, "change", batch.pk)
    assert any("released" in m for m in messages_of(response))


def test_a_wrong_password_releases_nothing_and_says_so(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)

    response = sign(client_for(world.qa), batch, "not-my-password")

    assert response.status_code == 200
    assert any("invalid_signature" in m for m in messages_of(response))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE and batch.release_signature is None
    assert not Signature.objects.exists()
    # The password is never sent back to the browser.
    assert b"not-my-password" not in response.content


def test_incomplete_qc_refuses_the_release_with_the_missing_tests(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch, {"viability": 90, "sterility": "negative"})

    response = sign(client_for(world.qa), batch, world.password)

    message = " ".join(messages_of(response))
    assert "qc_incomplete" in message and "cd3_purity" in message and "endotoxin" in message
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE
    assert not Signature.objects.exists()


def test_failed_qc_refuses_the_release_naming_the_tests(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch, {**PASSING_QC, "sterility": "positive"})

    response = sign(client_for(world.qa), batch, world.password)

    message = " ".join(messages_of(response))
    assert "qc_failed" in message and "sterility" in message
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE
    assert not Signature.objects.exists()


def test_only_qa_may_release(client_for, world, factory_coordinator, superuser):
    batch = started_batch(world)
    record_qc(world, batch)

    # The signing pages refuse as the service does (403), a superuser without the qa role included.
    for user in (factory_coordinator, world.manufacturing, superuser):
        client = client_for(user)
        for page in (release_url(batch), reject_url(batch)):
            assert client.get(page).status_code == 403, user
        response = sign(client, batch, world.password)
        assert response.status_code == 403, user
        assert b"qa role" in response.content
        refused = client.post(reject_url(batch), {"password": world.password, "meaning": "x", "reason": "y"})
        assert refused.status_code == 403, user
        # Nor does the batch page offer what they may not do.
        page = client.get(url(Batch, "change", batch.pk))
        assert release_url(batch).encode() not in page.content
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE
    assert not Signature.objects.exists()
    assert not SignatureFailure.objects.exists()


def test_a_batch_the_user_cannot_see_cannot_be_signed(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)
    # QA at another site: the batch is not theirs to see, so there is nothing to sign.
    outsider = UserFactory(username="qa-elsewhere", roles=[Role.QA], facilities=[world.other_hospital])
    client = client_for(outsider)
    assert client.get(release_url(batch)).status_code == 302
    response = client.post(release_url(batch), {"password": world.password, "meaning": "x"}, follow=True)
    assert any("exist" in m for m in messages_of(response))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE
    assert not Signature.objects.exists()


def test_the_signature_form_needs_a_meaning(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)
    response = sign(client_for(world.qa), batch, world.password, meaning="")
    assert "meaning" in response.context["form"].errors
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE


def test_rejection_is_signed_and_needs_a_reason(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch, {**PASSING_QC, "sterility": "positive"})
    client = client_for(world.qa)

    response = client.post(reject_url(batch), {"password": world.password, "meaning": "Rejected", "reason": ""})
    assert "reason" in response.context["form"].errors
    response = client.post(reject_url(batch), {"password": "wrong", "meaning": "Rejected", "reason": "Sterility"})
    assert any("invalid_signature" in m for m in messages_of(response))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE

    response = client.post(
        reject_url(batch),
        {"password": world.password, "meaning": "Rejected: not sterile", "reason": "Sterility positive"},
        follow=True,
    )
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REJECTED
    assert batch.rejection_reason == "Sterility positive"
    assert batch.rejection_signature.meaning == SignatureMeaning.REJECTION
    assert batch.rejection_signature.signer == world.qa

    # Closed: a second signature is refused, nothing more is written.
    response = sign(client, batch, world.password)
    assert any("not_releasable" in m for m in messages_of(response))
    assert Signature.objects.count() == 1


def test_the_list_action_leads_to_the_signature_page(client_for, world):
    batch = started_batch(world)
    client = client_for(world.qa)
    response = client.post(
        url(Batch, "changelist"), {"action": "release", "_selected_action": [str(batch.pk)], "index": "0"}
    )
    assert response.status_code == 302
    assert response["Location"] == release_url(batch)

    other = started_batch(world)
    response = client.post(
        url(Batch, "changelist"),
        {"action": "release", "_selected_action": [str(batch.pk), str(other.pk)], "index": "0"},
        follow=True,
    )
    assert any("select exactly one" in m for m in messages_of(response))


def test_signatures_are_read_only_in_the_admin(client_for, world, superuser):
    batch = started_batch(world)
    record_qc(world, batch)
    sign(client_for(world.qa), batch, world.password)
    signature = Signature.objects.get()
    client = client_for(superuser)
    assert client.get(url(Signature, "change", signature.pk)).context["has_change_permission"] is False
    assert client.get(url(Signature, "add")).status_code == 403
    assert client.post(url(Signature, "delete", signature.pk), {"post": "yes"}).status_code == 403
    data = form_data(client.get(url(Batch, "change", batch.pk)), "batch_form")
    data["release_signature"] = ""
    client.post(url(Batch, "change", batch.pk), data)
    batch.refresh_from_db()
    assert batch.release_signature == signature


# What was signed, and a superuser with the qa role -------------------------------------------------------


def test_a_superuser_with_the_qa_role_may_sign(client_for, world, superuser):
    superuser.groups.add(Group.objects.get(name=Role.QA))
    batch = started_batch(world)
    record_qc(world, batch)
    response = sign(client_for(superuser), batch, world.password)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RELEASED and batch.release_signature.signer == superuser, messages_of(response)


def test_the_signing_page_shows_the_specification_results_and_digest_it_will_keep(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)

    page = client_for(world.qa).get(release_url(batch))

    expected = digest(release_review(batch))
    assert page.context["review_digest"] == expected
    html = page.content.decode()
    assert f'<code id="review-digest">{expected}</code>' in html
    assert f'name="reviewed_digest" value="{expected}"' in html
    assert "Release specification" in html and "endotoxin" in html and "EU/mL" in html


def test_a_result_recorded_while_the_page_was_read_refuses_the_signature(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)
    client = client_for(world.qa)
    read = digest(release_review(batch))
    record_qc(world, batch, {"viability": 75})  # someone records a retest meanwhile

    response = sign(client, batch, world.password, reviewed_digest=read)

    assert any("review_changed" in m for m in messages_of(response))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE and not Signature.objects.exists()
    # The page now shows the new review; signing it releases.
    fresh = response.context["review_digest"]
    assert fresh != read and fresh == digest(release_review(batch))
    sign(client, batch, world.password, reviewed_digest=fresh)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RELEASED and batch.release_signature.reviewed_digest == fresh


def test_the_batch_page_shows_what_was_signed_even_after_the_specification_changes(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)
    sign(client_for(world.qa), batch, world.password)
    signed = Signature.objects.get()
    ReleaseTest.objects.filter(product=batch.product, test="viability").update(min_value=Decimal("95"))

    html = client_for(world.qa).get(url(Batch, "change", batch.pk)).content.decode()

    assert "what was signed" in html.lower()
    assert f"<code>{signed.reviewed_digest}</code>" in html
    assert "✔ matches what is shown" in html
    assert "<td>viability</td><td>%</td><td>70</td>" in html  # the limit as it was signed, not as it is now


def test_the_batch_page_says_when_what_was_signed_was_altered(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)
    sign(client_for(world.qa), batch, world.password)
    signature = Signature.objects.get()
    owner_sql(
        "products_signature",
        "UPDATE products_signature SET reviewed = jsonb_set(reviewed, '{qc_results,0,value}', '\"99\"') WHERE id = %s",
        [signature.id],
    )

    html = client_for(world.qa).get(url(Batch, "change", batch.pk)).content.decode()

    assert "✘ does not match: the record was altered" in html


def test_the_signature_and_custody_pages_show_the_chain(client_for, world, superuser):
    unit = journey.deliver(world, journey.released_unit(world))
    signature = Signature.objects.get()
    record = CustodyRecord.objects.filter(unit=unit).order_by("seq")[1]
    client = client_for(superuser)

    signature_page = client.get(url(Signature, "change", signature.pk)).content.decode()
    assert signature.hash in signature_page and signature.prev_hash in signature_page
    assert signature.reviewed_digest in signature_page

    custody_page = client.get(url(CustodyRecord, "change", record.pk)).content.decode()
    assert record.hash in custody_page and record.prev_hash in custody_page
