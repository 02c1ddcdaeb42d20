// Files dropped onto the library (or chosen): each is announced to medialib, PUT to the upload
// URL it answers with (progress shown), then registered as a new entry, which the grid then
// shows. No framework needed.
(function () {
  "use strict";
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("uploads");
  const picker = document.getElementById("files");
  if (!zone) return;
  const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const details = answer.error_details || answer;
      throw new Error(answer.error && !answer.error_details ? answer.error
        : Object.entries(details).map(([k, v]) => k + ": " + v).join("; "));
    }
    return answer;
  }

  function put(upload, file, progress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("PUT", upload.uploadUrl);
      Object.entries(upload.headers || {}).forEach(([k, v]) => request.setRequestHeader(k, v));
      request.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = e.loaded / e.total; };
      request.onload = () => (request.status < 300 ? resolve() : reject(new Error("upload: HTTP " + request.status)));
      request.onerror = () => reject(new Error("upload: the network failed"));
      request.send(file);
    });
  }

  function facts(file) {
    const url = URL.createObjectURL(file);
    const done = (value) => { URL.revokeObjectURL(url); return value; };
    if (/^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
      return new Promise((resolve) => {
        const image = new Image();
        image.onload = () => resolve(done({ width: image.naturalWidth, height: image.naturalHeight }));
        image.onerror = () => resolve(done({}));
        image.src = url;
      });
    }
    if (file.type.startsWith("video/")) {
      return new Promise((resolve) => {
        const video = document.createElement("video");
        video.preload = "metadata";
        video.onloadedmetadata = () => resolve(done({
          width: video.videoWidth, height: video.videoHeight,
          duration: Math.round(video.duration * 1000) / 1000,
        }));
        video.onerror = () => resolve(done({}));
        video.src = url;
      });
    }
    return Promise.resolve(done({}));
  }

  async function send(file) {
    const row = document.createElement("li");
    const progress = document.createElement("progress");
    const label = document.createElement("span");
    progress.max = 1; progress.value = 0;
    progress.setAttribute("aria-label", "Uploading " + file.name);
    label.textContent = " " + file.name + ": uploading…";
    row.append(progress, label);
    list.append(row);
    const mimeType = file.type || "application/octet-stream";
    try {
      const upload = await post("/ui/uploads", { fileName: file.name, mimeType, size: file.size });
      await put(upload, file, progress);
      const found = await facts(file);
      const entry = await post("/ui/uploads/register",
        Object.assign({ key: upload.key, fileName: file.name, mimeType, size: file.size }, found));
      progress.value = 1;
      label.textContent = " " + file.name + ": added. ";
      const link = document.createElement("a");
      link.href = entry.url; link.textContent = "Open";
      label.append(link);
      row.className = "uploaded";
      // The grid (library.html) listens for it and shows the new entry.
      document.body.dispatchEvent(new CustomEvent("medialib:uploaded"));
    } catch (error) {
      label.textContent = " " + file.name + ": " + error.message;
      label.className = "error";
      row.className = "upload-failed";
    }
  }

  function sendAll(files) { Array.from(files).forEach(send); }
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); sendAll(e.dataTransfer.files); });
  picker.addEventListener("change", () => sendAll(picker.files));
})();
