// Package paymentinfo is the closing page of a session: it tells each
// participant what they earned and how they will be paid.
package paymentinfo

import (
	"embed"

	"github.com/gotree/gotree/otree"
)

//go:embed *.html
var templates embed.FS

type Subsession struct {
	otree.BaseSubsession[Subsession, Group, Player]
}

type Group struct {
	otree.BaseGroup[Subsession, Group, Player]
}

type Player struct {
	otree.BasePlayer[Subsession, Group, Player]
}

// PaymentInfo shows the payment and a redemption code: the participant's
// label if the lab gave one, else their code.
type PaymentInfo struct{ otree.Page }

func (PaymentInfo) VarsForTemplate(p *Player) otree.Vars {
	part := p.Participant()
	code := part.Label
	if code == "" {
		code = part.Code
	}
	return otree.Vars{"RedemptionCode": code}
}

// App is the payment page, meant to end every session config.
var App = &otree.App[Subsession, Group, Player]{
	Name:      "payment_info",
	Pages:     []otree.AnyPage{PaymentInfo{}},
	Templates: templates,
	Bot:       func(b *otree.Bot[Player]) {}, // the last page has nothing to submit
}
