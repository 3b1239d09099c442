// Command examples serves gotree's example games. Run it with
//
//	go run ./examples devserver
//
// and open http://localhost:8000, or play every game with its bots:
//
//	go run ./examples test
package main

import (
	"github.com/gotree/gotree/examples/bargaining"
	"github.com/gotree/gotree/examples/cournot"
	"github.com/gotree/gotree/examples/dictator"
	"github.com/gotree/gotree/examples/guess_two_thirds"
	"github.com/gotree/gotree/examples/matching_pennies"
	"github.com/gotree/gotree/examples/payment_info"
	"github.com/gotree/gotree/examples/prisoner"
	"github.com/gotree/gotree/examples/public_goods"
	"github.com/gotree/gotree/examples/public_goods_simple"
	"github.com/gotree/gotree/examples/survey"
	"github.com/gotree/gotree/examples/trust"
	"github.com/gotree/gotree/examples/trust_simple"
	"github.com/gotree/gotree/otree"
)

func main() { otree.Run(Project) }

// Project lists the example session configs: one per game, each followed
// by the payment page.
var Project = &otree.Project{
	DemoPageTitle: "gotree examples",
	DemoPageIntro: "Each config below is a classic game. Create a demo session, then open " +
		"each participant's link in its own browser tab.",
	SessionConfigs: []otree.SessionConfig{
		game("public_goods_simple", "Public goods (simple version from the tutorial)", 3,
			publicgoodssimple.App),
		withParams(game("public_goods", "Public goods", 3, publicgoods.App),
			map[string]any{"multiplier": 2.0}),
		game("trust", "Trust game", 2, trust.App),
		game("trust_simple", "Trust game (simple version from the tutorial)", 2, trustsimple.App),
		game("prisoner", "Prisoner's dilemma", 2, prisoner.App),
		game("guess_two_thirds", "Guess two thirds of the average", 3, guesstwothirds.App),
		game("matching_pennies", "Matching pennies", 2, matchingpennies.App),
		game("cournot", "Cournot competition", 2, cournot.App),
		game("dictator", "Dictator game", 2, dictator.App),
		game("survey", "Survey", 1, survey.App),
		game("bargaining", "Bargaining (Nash demand game)", 2, bargaining.App),
	},
}

// withParams gives a config parameters, which the demo page shows and the
// REST API's modified_session_config_fields may override.
func withParams(c otree.SessionConfig, params map[string]any) otree.SessionConfig {
	c.Params = params
	return c
}

// game returns the session config that plays app and then the payment page.
func game(name, display string, participants int, app otree.Application) otree.SessionConfig {
	return otree.SessionConfig{
		Name:                name,
		DisplayName:         display,
		Apps:                []otree.Application{app, paymentinfo.App},
		NumDemoParticipants: participants,
	}
}
