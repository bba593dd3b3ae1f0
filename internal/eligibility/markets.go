package eligibility

import "strings"

// A partner sells CSP offers to customers in the countries of its CSP
// market, set by its own location: "If your company's location is on the
// following list, you can sell CSP offers to customers in all locations on
// the list." Source: Microsoft Learn, Partner Center, "Cloud Solution
// Provider program regional markets and currencies where you can sell CSP
// offers" (partner-center/customers/regional-authorization-overview),
// version of 2023-08-17; docs/eligibility.md, rule 7. The customer's
// country is the one set in its tenant. Countries are ISO 3166-1 alpha-2
// codes (XK, Kosovo, as Partner Center lists it).
var markets = map[string]string{
	"Africa":                      "AO BJ BW BF BI CM CV CF TD KM CG CD CI DJ GQ ER ET PF GA GM GH GN GW KE LR MG MW ML MU YT NA NC NE NG RE RW ST SN SC SL SO SS SH TZ TG UG ZM",
	"Asia Pacific":                "BD BT BN KH HK ID LA MO MY MV MM NP PH SG LK TH TL VN",
	"Australia":                   "AU CX CC CK FJ TF HM KI MH FM NR NU NF PW PG PN SB TK TO TV WF",
	"Brazil":                      "BR",
	"Canada":                      "CA PM",
	"China":                       "CN",
	"Europe":                      "AX AD AT BE BV BG HR CY CZ DK EE FO FI FR DE GI GR GL GG HU IS IE IM IT JE LV LI LT LU MT MC NL NO PL PT RO SM SK SI ES SJ SE CH GB VA",
	"India":                       "IN",
	"Japan":                       "JP",
	"Korea":                       "KR",
	"Latin America and Caribbean": "AI AQ AG AR AW BS BB BZ BM BO BQ VG KY CL CO CR CW DM DO EC SV FK GF GD GP GT GY HT HN JM MQ MX MS NI PA PY PE PR BL KN LC MF VC SX GS SR TT TC UY VE VI",
	"Middle East, Central and Eastern Europe": "AF AL DZ AM AZ BH BA IO EG GE IQ IL JO KZ XK KW KG LB LS LY MR MD MN ME MA MZ MK OM PK PS QA SA RS ZA SZ TJ TN TR TM UA AE UZ YE ZW",
	"New Zealand":   "NZ WS VU",
	"Taiwan":        "TW",
	"United States": "AS GU MP US UM",
}

// marketOf maps a country to its CSP market, read once from markets.
var marketOf = func() map[string]string {
	out := map[string]string{}
	for market, countries := range markets {
		for _, c := range strings.Fields(countries) {
			out[c] = market
		}
	}
	return out
}()

// Market is the CSP market of country, or "" for a country the table does
// not list.
func Market(country string) string { return marketOf[strings.ToUpper(country)] }

// sellsTo: a partner located in partnerCountry may sell to a customer in
// customerCountry. A country the table does not list sells only to itself.
func sellsTo(partnerCountry, customerCountry string) bool {
	if strings.EqualFold(partnerCountry, customerCountry) {
		return true
	}
	m := Market(partnerCountry)
	return m != "" && m == Market(customerCountry)
}
