// Command examples serves gotree's example games. Run it with
//
//	go run ./examples devserver
//
// and open http://localhost:8000, or play every game with its bots:
//
//	go run ./examples test
package main

import (
	"github.com/gotree/gotree/examples/payment_info"
	"github.com/gotree/gotree/examples/public_goods_simple"
	"github.com/gotree/gotree/otree"
)

func main() { otree.Run(Project) }

// Project lists the example session configs.
var Project = &otree.Project{
	DemoPageTitle: "gotree examples",
	DemoPageIntro: "Each config below is a classic game. Create a demo session, then open " +
		"each participant's link in its own browser tab.",
	SessionConfigs: []otree.SessionConfig{
		{
			Name:                "public_goods_simple",
			DisplayName:         "Public goods (simple version from the tutorial)",
			Apps:                []otree.Application{publicgoodssimple.App, paymentinfo.App},
			NumDemoParticipants: 3,
		},
	},
}
