// The web chat page: sends each message to the webchat channel and shows the bot's replies.
// The server issues the session (a signed id); the page keeps it in localStorage, so a reload
// continues the same conversation. A link may carry the documented demo session in its fragment
// (#session=demo.<mac>); no other session is taken from a link, so nobody can make a visitor
// talk (or bind an account) in a session the sender of the link also holds.
(function () {
  "use strict";
  var labels = JSON.parse(document.getElementById("labels").textContent);
  var messages = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendButton = document.getElementById("send");
  var sessionKey = "icp-webchat-session";
  var linked = /(?:^#|&)session=(demo\.[A-Za-z0-9_-]+)(?:&|$)/.exec(location.hash);
  if (linked) { localStorage.setItem(sessionKey, linked[1]); }
  if (location.hash) { history.replaceState(null, "", location.pathname + location.search); }  // not left in the address bar
  var pendingSession = null;

  // The kept session, or a new one from the server (asked once, however many callers wait).
  function session(renew) {
    if (renew) { localStorage.removeItem(sessionKey); }
    var kept = localStorage.getItem(sessionKey);
    if (kept) { return Promise.resolve(kept); }
    if (!pendingSession) {
      pendingSession = fetch("/chat/session", { method: "POST" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          localStorage.setItem(sessionKey, data.session);
          return data.session;
        })
        .finally(function () { pendingSession = null; });
    }
    return pendingSession;
  }

  function sendToBot(message, renew) {
    return session(renew).then(function (current) {
      return fetch("/chat/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session: current, message: message })
      });
    }).then(function (response) {
      // 403: the server no longer knows this session (its secret changed): start a new one, once.
      if (response.status === 403 && !renew) { return sendToBot(message, true); }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }
  var busy = false;

  // Text with its http(s) links made clickable; never HTML-interpreted.
  function fillText(element, text) {
    var pattern = /https?:\/\/[^\s，。、）)]+/g;
    var last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      element.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = document.createElement("a");
      link.href = match[0];
      link.textContent = match[0];
      link.target = "_blank";
      link.rel = "noopener";
      element.appendChild(link);
      last = match.index + match[0].length;
    }
    element.appendChild(document.createTextNode(text.slice(last)));
  }

  function addRow(who, fill) {
    var row = document.createElement("div");
    row.className = "row " + who;
    var avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.textContent = who === "bot" ? "助" : "我";
    var bubble = document.createElement("div");
    bubble.className = "bubble " + who;
    fill(bubble);
    row.appendChild(avatar);
    row.appendChild(bubble);
    messages.appendChild(row);
    messages.scrollTop = messages.scrollHeight;
    return row;
  }

  function addText(who, text) {
    return addRow(who, function (bubble) { fillText(bubble, text); });
  }

  function addButtons(buttons) {
    var group = document.createElement("div");
    group.className = "quick-replies";
    buttons.forEach(function (button) {
      var chip = document.createElement("button");
      chip.type = "button";
      chip.textContent = button.title;
      chip.addEventListener("click", function () {
        if (busy) { return; }
        group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        send(button.payload || button.title, button.title);
      });
      group.appendChild(chip);
    });
    messages.appendChild(group);
    messages.scrollTop = messages.scrollHeight;
  }

  function showTyping() {
    var row = addRow("bot", function (bubble) {
      bubble.classList.add("typing");
      bubble.setAttribute("aria-label", labels.typing);
      for (var i = 0; i < 3; i++) {
        var dot = document.createElement("span");
        dot.className = "dot";
        bubble.appendChild(dot);
      }
    });
    row.id = "typing";
    return row;
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value || input.value.trim() === "";
  }

  function send(message, shown) {
    addText("user", shown);
    setBusy(true);
    var typing = showTyping();
    sendToBot(message, false)
      .then(function (replies) {
        typing.remove();
        replies.forEach(function (reply) {
          if (reply.text) { addText("bot", reply.text); }
          if (reply.image) { addText("bot", reply.image); }
          if (reply.buttons && reply.buttons.length) { addButtons(reply.buttons); }
        });
      })
      .catch(function () {
        typing.remove();
        addText("bot", labels.error);
      })
      .then(function () { setBusy(false); input.focus(); });
  }

  input.addEventListener("input", function () { setBusy(busy); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy) { return; }
    input.value = "";
    send(text, text);
  });

  // An agent's replies (and the bot's return) arrive in the conversation between the user's
  // own requests: poll for them.
  var handoffAfter = Date.now() / 1000;
  function pollHandoff() {
    session(false)
      .then(function (current) {
        return fetch("/chat/handoff-messages?after=" + handoffAfter, { headers: { "X-Chat-Session": current } });
      })
      .then(function (response) { return response.ok ? response.json() : { messages: [] }; })
      .then(function (data) {
        (data.messages || []).forEach(function (message) {
          handoffAfter = Math.max(handoffAfter, message.at);
          addText("bot", message.text);
          if (message.buttons && message.buttons.length) { addButtons(message.buttons); }
        });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { setTimeout(pollHandoff, 3000); });
  }

  addText("bot", labels.welcome);
  input.focus();
  pollHandoff();
})();
