// Peer comments on the compare page (learning.peer_review): a "Peer review" mark on comments a
// classmate wrote, and for teachers a "Hidden from students" mark and the Hide / Show button.
// The API already leaves hidden comments out for students and names classmates as the viewer
// may see them; this module only marks and toggles.
import { api } from "../lib/api.js";
import { element } from "../lib/dom.js";
import { config } from "./state.js";

// `who` is the comment's name line, `acts` its row of actions; `reload` redraws the threads.
export function markPeerComment(comment, { who, acts, box, reload }) {
  if (!comment.peer) return;
  box.classList.add("peer-comment");
  box.dataset.peer = "true";
  who.append(document.createTextNode(" "));
  who.append(element("span", "badge peer-badge", "Peer review"));
  if (!config.is_teacher || !config.api.comment_hide) return;
  if (comment.hidden) {
    box.classList.add("peer-hidden");
    box.dataset.hidden = "true";
    who.append(document.createTextNode(" "));
    who.append(element("span", "badge peer-hidden-badge", "Hidden from students"));
  }
  const toggle = element("button", "link", comment.hidden ? "Show to students" : "Hide from students");
  toggle.type = "button";
  toggle.dataset.peerHide = comment.hidden ? "show" : "hide";
  toggle.addEventListener("click", async () => {
    try {
      await api(config.api.comment_hide.replace("00000000-0000-0000-0000-000000000000", comment.public_id), {
        method: "POST", body: JSON.stringify({ hidden: !comment.hidden }),
      });
      await reload();
    } catch (error) { alert(error.message); }
  });
  acts.append(toggle);
}
