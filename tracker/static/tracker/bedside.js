/* The bedside page: a keyboard-wedge scanner types into the focused field and presses Enter; focus moves on by
   itself, and after the last scan the check is asked of this server (bedside-checks/). Only a match opens the
   administration form, which posts to administrations/ with the second person's signature. Every request goes to
   this server only; the answers are shown as text (never as HTML). */
(() => {
  "use strict";

  const section = document.getElementById("check");
  if (!section) return;

  const scanForm = document.getElementById("scan-form");
  const scans = Array.from(scanForm.querySelectorAll("input"));
  const verdict = document.getElementById("verdict");
  const verdictWord = document.getElementById("verdict-word");
  const verdictReasons = document.getElementById("verdict-reasons");
  const administer = document.getElementById("administer");
  const administerForm = document.getElementById("administer-form");
  const administerResult = document.getElementById("administer-result");
  const FIELD_NAMES = {
    coi: "Order",
    unit: "Bag",
    scanned_unit: "Bag",
    scanned_patient: "Wristband",
    scanned_birth_date: "Birth date",
    verifier_username: "Second person",
    verifier_password: "Second person's password",
    route: "Route",
    administered_at: "Time",
  };
  let matched = null; // the last check that matched: what the administration will be recorded from

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": section.dataset.csrf,
      },
      body: JSON.stringify(body),
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = { detail: `The server answered ${response.status}.` };
    }
    return { status: response.status, answer };
  }

  function item(text) {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }

  function errorLines(answer) {
    if (answer.detail) return [answer.detail];
    return Object.entries(answer).map(
      ([field, messages]) => `${FIELD_NAMES[field] || field}: ${[].concat(messages).join(" ")}`,
    );
  }

  function show(kind, word, lines) {
    verdict.hidden = false;
    verdict.className = `verdict verdict-${kind}`;
    verdictWord.textContent = word;
    verdictReasons.replaceChildren(...lines.map(item));
  }

  function forget() {
    matched = null;
    administer.hidden = true;
  }

  function render(check) {
    if (check.match) {
      matched = check;
      show("match", "MATCH", [`Bag ${check.unit} is this patient's, and may be given now.`]);
      administer.hidden = false;
      administerResult.textContent = "";
      document.getElementById("verifier-username").focus();
      return;
    }
    forget();
    const lines = check.mismatches.map(
      (m) => `${FIELD_NAMES[m.field]}: ${m.reason} Scanned ${m.scanned || "nothing"}; expected ${m.expected || "-"}.`,
    );
    check.unit_problems.forEach((p) => lines.push(`Bag: ${p.detail}`));
    show("stop", check.mismatches.length ? "NO MATCH: DO NOT GIVE" : "DO NOT GIVE", lines);
    document.getElementById("scan-again").focus();
  }

  async function check() {
    const empty = scans.find((input) => !input.value.trim());
    if (empty) {
      empty.focus();
      show("wait", "SCAN EVERYTHING FIRST", [`${empty.labels[0].textContent}: nothing scanned yet.`]);
      return;
    }
    show("wait", "CHECKING…", []);
    const body = { coi: section.dataset.coi };
    scans.forEach((input) => {
      body[input.name] = input.value.trim();
    });
    const { status, answer } = await post(section.dataset.checkUrl, body);
    if (status === 200) {
      render(answer);
    } else {
      forget();
      show("stop", "NOT CHECKED", errorLines(answer));
    }
  }

  scans.forEach((input, index) => {
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      if (!input.value.trim()) return;
      const next = scans[index + 1];
      if (next) next.focus();
      else check();
    });
    // A scan changed after an answer: the answer no longer holds.
    input.addEventListener("input", () => {
      if (!verdict.hidden) {
        verdict.hidden = true;
        forget();
      }
    });
  });

  scanForm.addEventListener("submit", (event) => {
    event.preventDefault();
    check();
  });

  document.getElementById("scan-again").addEventListener("click", () => {
    scans.forEach((input) => {
      input.value = "";
    });
    verdict.hidden = true;
    forget();
    scans[0].focus();
  });

  administerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!matched) return;
    const password = document.getElementById("verifier-password");
    const body = {
      coi: section.dataset.coi,
      unit: matched.unit,
      administered_at: new Date().toISOString(),
      route: document.getElementById("route").value,
      scanned_unit: matched.scanned_unit,
      scanned_patient: matched.scanned_patient,
      scanned_birth_date: matched.scanned_birth_date,
      verifier_username: document.getElementById("verifier-username").value.trim(),
      verifier_password: password.value,
    };
    administerResult.textContent = "Recording…";
    const { status, answer } = await post(section.dataset.administerUrl, body);
    password.value = "";
    if (status === 201) {
      administerResult.className = "administer-result administer-done";
      administerResult.textContent = `Recorded: bag ${answer.unit} given at ${new Date(answer.administered_at).toLocaleString()}, verified by ${answer.verified_by.signer}. `;
      const link = document.createElement("a");
      link.href = section.dataset.patientUrl;
      link.textContent = "Open the patient's timeline";
      administerResult.append(link);
      administerForm.querySelectorAll("input, select, button").forEach((control) => {
        control.disabled = true;
      });
      link.focus();
    } else {
      administerResult.className = "administer-result administer-refused";
      administerResult.textContent = `Not recorded. ${errorLines(answer).join(" ")}`;
      password.focus();
    }
  });
})();
