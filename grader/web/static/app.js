// Drag-and-drop onto the upload form, and status polling; no inline scripts (the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // The server shows times in UTC and, once it knows the browser's time zone from this cookie, in local time too.
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (timeZone && !document.cookie.split("; ").includes("grader_tz=" + encodeURIComponent(timeZone))) {
    document.cookie = "grader_tz=" + encodeURIComponent(timeZone) + "; path=/; max-age=31536000; samesite=lax";
  }

  const zone = document.querySelector("[data-dropzone]");
  const picker = document.querySelector("[data-file]");
  if (zone && picker) {
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        picker.files = event.dataTransfer.files;
      }
    });
  }

  // The defense form's running total follows the points typed in.
  document.querySelectorAll("[data-project-manual]").forEach((form) => {
    const total = form.querySelector("[data-running-total]");
    form.addEventListener("input", () => {
      const sum = [...form.querySelectorAll("[data-running-part]")].reduce((acc, field) => acc + (Number(field.value) || 0), 0);
      total.textContent = String(Math.round(sum * 100) / 100);
    });
  });

  const poller = document.querySelector("[data-poll]");
  if (poller) {
    const every = Number(poller.dataset.pollMs) || 2000;
    const badge = document.querySelector("[data-status]");
    const tick = async () => {
      const response = await fetch(poller.dataset.poll, { credentials: "same-origin" });
      if (response.ok) {
        const state = await response.json();
        if (badge) {
          badge.textContent = state.status;
          badge.className = "status status-" + state.status;
        }
        if (state.finished) {
          window.location.reload();
          return;
        }
      }
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  }

  const reloader = document.querySelector("[data-poll-reload]");
  if (reloader) {
    setTimeout(() => window.location.reload(), Number(reloader.dataset.pollMs) || 2000);
  }
});
