package otree

import (
	"fmt"
	"net/url"
	"time"
)

// Group returns the player's group, loaded when a template first asks.
func (d *PageData) Group() any {
	if d.group == nil {
		d.group = d.t.groupByID(d.step.app, d.Player.(playerModel).pcore().groupID)
	}
	return d.group
}

// Subsession returns the player's subsession.
func (d *PageData) Subsession() any {
	return d.t.subsession(d.step.app, d.step.round)
}

// Session returns the participant's session.
func (d *PageData) Session() *Session {
	return d.t.sessionByID(d.Participant.SessionID)
}

// render builds a page's HTML for participant p on page i, with the errors
// of a rejected submission if fe is not nil.
func (e *engine) render(t *txn, k *sessionKind, p *Participant, i int, fe *formError) ([]byte, error) {
	s, _ := k.stepAt(i)
	pl := t.player(s.app, p.ID, s.round)
	d := &PageData{
		Player: pl, Participant: p, C: s.app.constants, App: s.app.name,
		Page: s.page.name, Title: s.page.name, Round: s.round,
		t: t, step: s, index: i,
	}
	if s.page.varsForTemplate != nil {
		t.call(hookName(s, "VarsForTemplate"), func() { d.Vars = s.page.varsForTemplate(pl) })
	}
	if s.page.isWait() {
		e.fillWait(t, d, p, s, pl)
	} else {
		e.fillForm(t, d, p, s, pl, fe)
	}
	var body []byte
	var err error
	t.call(hookName(s, "template"), func() {
		body, err = execute(s.page.tmpl, d)
	})
	if err != nil {
		return nil, fmt.Errorf("render %s/%s: %w", s.app.name, s.page.name, err)
	}
	return body, nil
}

func (e *engine) fillForm(t *txn, d *PageData, p *Participant, s step, pl any, fe *formError) {
	d.fields = s.page.fields
	d.target = t.formTarget(s, pl).self
	if fe != nil {
		d.errors, d.values, d.PageError = fe.fields, fe.values, fe.page
		if d.PageError == "" && len(fe.fields) > 0 {
			d.PageError = "Please correct the errors below."
		}
	}
	d.Client = map[string]any{"autoAdvance": socketPath("auto_advance", p, d.index), "isForm": true}
	if p.ExpiryPage == d.index && p.ExpiryAt != nil {
		left := max(time.Until(*p.ExpiryAt), 0).Truncate(time.Second)
		d.Timer = &Timer{
			Text: s.page.timerText, Deadline: *p.ExpiryAt,
			Remaining: fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60),
		}
		d.Client["deadline"] = p.ExpiryAt.UnixMilli()
		d.Client["serverNow"] = time.Now().UnixMilli()
	}
}

func (e *engine) fillWait(t *txn, d *PageData, p *Participant, s step, pl any) {
	d.Title, d.BodyText = s.page.titleText, s.page.bodyText
	if d.BodyText == "" {
		d.BodyText = defaultWaitText(waitSize(t, s, pl))
	}
	d.Client = map[string]any{
		"autoAdvance": socketPath("auto_advance", p, d.index),
		"waitPage":    socketPath("wait_page", p, d.index),
	}
}

// waitSize returns how many players a wait page waits for. With a fixed
// group size and no wait for all groups it needs no query.
func waitSize(t *txn, s step, pl any) int {
	if s.app.playersPerGroup > 0 && !s.page.waitForAll {
		return s.app.playersPerGroup
	}
	return len(t.waitMembers(s, pl))
}

func defaultWaitText(members int) string {
	switch {
	case members <= 1:
		return ""
	case members == 2:
		return "Waiting for the other participant."
	}
	return "Waiting for the other participants."
}

func socketPath(route string, p *Participant, index int) string {
	q := url.Values{"participant_code": {p.Code}, "page_index": {fmt.Sprint(index)}}
	return "/" + route + "?" + q.Encode()
}
