package sample

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
)

// Languages used to flavour company and person names.
const (
	langFR = iota
	langDK
	langEN
	numLangs
)

// internalDomain is the e-mail domain of the platform's own test accounts.
const internalDomain = "uptake-demo.internal"

// defaultSalespeople are the first salespeople; more are generated when asked.
var defaultSalespeople = []string{"Alice Martin", "Bruno Costa", "Chloé Dubois", "Dario Rossi", "Eva Nielsen"}

var surnames = [numLangs][]string{
	langFR: {"Lefèvre", "Dupont", "Moreau", "Girard", "Bérard", "Fontaine", "Rousseau", "Mercier",
		"Chevalier", "Garnier", "Faure", "Rémy", "Gauthier", "Perrin", "Bonnet", "Lambert", "Roux",
		"Clément", "Hérault", "Lemaître", "Benoît", "Noël", "Aubert", "Barbier", "Martin", "Dubois",
		"Durand", "Lefebvre", "Leroy", "Morel", "Fournier", "Giraud", "André", "Mathieu", "Bertrand",
		"Brun", "Blanc", "Guérin", "Muller", "Henry", "Rivière", "Lucas", "Joly", "Boyer", "Denis"},
	langDK: {"Nørgaard", "Jensen", "Østergaard", "Sørensen", "Kjær", "Højgaard", "Mølgaard", "Andersen",
		"Christensen", "Lund", "Bækgaard", "Dahl", "Holm", "Skovgaard", "Rasmussen", "Thygesen",
		"Vestergaard", "Brøndum", "Larsen", "Pedersen", "Nielsen", "Madsen", "Poulsen", "Kristensen",
		"Frederiksen", "Damgaard", "Søndergaard", "Laursen", "Bach", "Krogh"},
	langEN: {"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
		"Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
		"Clarke", "Harris", "Lewis", "Baker", "Turner", "Hughes", "Cooper", "Ward", "Morris", "King", "Carter"},
}

var firstNames = [numLangs][]string{
	langFR: {"Jean", "Marie", "Chloé", "Léa", "Hélène", "François", "Zoé", "Théo", "Noémie", "Agnès",
		"Jérôme", "Cécile", "Luc", "Camille", "Manon", "Hugo", "Louis", "Émilie", "Julien", "Sébastien",
		"Nathalie", "Pierre", "Sophie", "Thomas", "Inès", "Mathilde", "Antoine", "Céline", "Gaëlle", "Raphaël"},
	langDK: {"Søren", "Mette", "Jørgen", "Åse", "Freja", "Mads", "Lærke", "Anders", "Kirsten", "Rasmus",
		"Frederik", "Ida", "Mikkel", "Sofie", "Kasper", "Line", "Morten", "Pernille", "Jesper", "Birgitte",
		"Henrik", "Signe", "Niels", "Trine", "Bjørn"},
	langEN: {"James", "Emily", "Oliver", "Olivia", "Harry", "Grace", "Jack", "Amelia", "George", "Charlotte",
		"William", "Jessica", "Daniel", "Lucy", "Edward", "Hannah", "Samuel", "Megan", "Joseph", "Rebecca",
		"Matthew", "Laura", "Andrew", "Rachel", "Benjamin"},
}

var (
	frTrades    = []string{"Boulangerie", "Pharmacie", "Garage", "Cabinet", "Transports", "Menuiserie", "Imprimerie", "Librairie", "Fromagerie", "Atelier", "Brasserie", "Épicerie", "Quincaillerie", "Plomberie", "Pâtisserie", "Clinique vétérinaire"}
	frPlaces    = []string{"du Centre", "de la Gare", "des Alpes", "du Port", "de l'Ouest", "du Marché", "des Halles", "de Provence", "du Lac", "Saint-Michel"}
	dkTrades    = []string{"Bager", "Tømrerfirma", "Murerfirma", "Blomster", "VVS", "Autoværksted", "Revision", "Maskinfabrik", "Tandlægerne", "Advokatfirmaet"}
	dkPlaces    = []string{"Nordisk", "Østjysk", "Vestjysk", "Fynsk", "Sjællands", "Aarhus", "Aalborg", "Odense", "Køge"}
	dkBusiness  = []string{"Rådgivning", "Transport", "Ejendomme", "Logistik", "Byg", "Handel", "Energi", "Revision"}
	enPlaces    = []string{"Blue River", "Northgate", "Silverline", "Oakwood", "Redbridge", "Kingsway", "Highfield", "Brightwater", "Greenfield", "Westbrook", "Summit", "Harbour"}
	enBusiness  = []string{"Consulting", "Logistics", "Engineering", "Solutions", "Supplies", "Analytics", "Foods", "Services", "Software", "Distribution", "Media"}
	enSuffixes  = []string{" Ltd", " LLP", " Group", " plc", ""}
	legalTokens = map[string]bool{"sas": true, "sarl": true, "aps": true, "a": true, "s": true, "ltd": true,
		"llp": true, "plc": true, "cie": true, "co": true, "the": true, "et": true, "l": true}
)

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// companyName returns a realistic B2B company name for the language.
// About one name in twenty contains a comma.
func companyName(r *rand.Rand, lang int) string {
	sn := surnames[lang]
	t := r.IntN(40)
	switch lang {
	case langFR:
		switch {
		case t < 12:
			return pick(r, frTrades) + " " + pick(r, sn)
		case t < 16:
			return pick(r, sn) + " SAS"
		case t < 19:
			return pick(r, sn) + " & Associés"
		case t < 21:
			return pick(r, sn) + ", Fils & Cie"
		case t < 26:
			return pick(r, frTrades) + " " + pick(r, frPlaces)
		case t < 29:
			return "Groupe " + pick(r, sn)
		case t < 32:
			return pick(r, sn) + " Frères"
		case t < 33:
			return pick(r, sn) + ", " + pick(r, sn) + " et Associés"
		case t < 36:
			return "Établissements " + pick(r, sn)
		default:
			return pick(r, sn) + " SARL"
		}
	case langDK:
		switch {
		case t < 10:
			return pick(r, sn) + " ApS"
		case t < 16:
			return pick(r, sn) + " A/S"
		case t < 20:
			return pick(r, sn) + " & Søn"
		case t < 30:
			return pick(r, dkTrades) + " " + pick(r, sn)
		case t < 36:
			return pick(r, dkPlaces) + " " + pick(r, dkBusiness) + " ApS"
		case t < 38:
			return pick(r, sn) + ", " + pick(r, sn) + " & Co"
		default:
			return pick(r, sn) + " Holding A/S"
		}
	default:
		switch {
		case t < 16:
			return pick(r, enPlaces) + " " + pick(r, enBusiness) + pick(r, enSuffixes)
		case t < 22:
			return pick(r, sn) + " & Sons"
		case t < 24:
			return pick(r, sn) + ", " + pick(r, sn) + " & Partners LLP"
		case t < 35:
			return pick(r, sn) + " " + pick(r, enBusiness) + " Ltd"
		default:
			return "The " + pick(r, sn) + " Group"
		}
	}
}

// foldRunes maps accented letters to their ASCII spelling.
var foldRunes = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ä': "a", 'ã': "a", 'å': "aa", 'æ': "ae",
	'ç': "c", 'é': "e", 'è': "e", 'ê': "e", 'ë': "e",
	'í': "i", 'ì': "i", 'î': "i", 'ï': "i", 'ñ': "n",
	'ó': "o", 'ò': "o", 'ô': "o", 'ö': "o", 'õ': "o", 'ø': "oe", 'œ': "oe",
	'ú': "u", 'ù': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ß': "ss",
}

// fold lower-cases s and spells it in ASCII letters and digits; every other
// character becomes sep (when sep is non-zero, runs of it are collapsed and
// trimmed).
func fold(s string, sep byte) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for _, c := range s {
		c = unicode.ToLower(c)
		var part string
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			part = string(c)
		default:
			part = foldRunes[c]
		}
		if part == "" {
			pending = sep != 0
			continue
		}
		if pending && b.Len() > 0 {
			b.WriteByte(sep)
		}
		pending = false
		b.WriteString(part)
	}
	return b.String()
}

// domainSlug turns a company name into the first label of its web domain,
// leaving out legal forms ("SAS", "ApS", "Ltd"...).
func domainSlug(name string) string {
	toks := strings.Split(fold(name, '-'), "-")
	kept := toks[:0]
	for _, t := range toks {
		if t != "" && !legalTokens[t] {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		return "company"
	}
	return strings.Join(kept, "-")
}

// topLevel returns the top-level domain of a company of the language.
func topLevel(r *rand.Rand, lang int) string {
	switch lang {
	case langFR:
		return ".fr"
	case langDK:
		return ".dk"
	}
	if r.IntN(2) == 0 {
		return ".co.uk"
	}
	return ".com"
}

// personPool is the flattened list of person first and last names with their
// ASCII e-mail spelling; firstStart/lastStart give each language's index range.
type personPool struct {
	first, last           []string
	firstMail, lastMail   []string
	firstStart, lastStart [numLangs + 1]int
}

func newPersonPool() *personPool {
	p := &personPool{}
	for l := 0; l < numLangs; l++ {
		p.firstStart[l] = len(p.first)
		p.lastStart[l] = len(p.last)
		p.first = append(p.first, firstNames[l]...)
		p.last = append(p.last, surnames[l]...)
	}
	p.firstStart[numLangs] = len(p.first)
	p.lastStart[numLangs] = len(p.last)
	for _, s := range p.first {
		p.firstMail = append(p.firstMail, fold(s, 0))
	}
	for _, s := range p.last {
		p.lastMail = append(p.lastMail, fold(s, 0))
	}
	return p
}

// person picks a first and last name index, mostly from the company's language.
func (p *personPool) person(r *rand.Rand, lang int) (fn, ln uint16) {
	fl, ll := lang, lang
	if r.IntN(5) == 0 {
		fl, ll = r.IntN(numLangs), r.IntN(numLangs)
	}
	fn = uint16(p.firstStart[fl] + r.IntN(p.firstStart[fl+1]-p.firstStart[fl]))
	ln = uint16(p.lastStart[ll] + r.IntN(p.lastStart[ll+1]-p.lastStart[ll]))
	return fn, ln
}

// salespeople returns n distinct salesperson names, starting with the defaults.
func salespeople(n int, p *personPool) []string {
	names := make([]string, 0, n)
	seen := make(map[string]bool, n)
	add := func(s string) {
		if len(names) < n && !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	for _, s := range defaultSalespeople {
		add(s)
	}
	nf, nl := len(p.first), len(p.last)
	for i := 0; len(names) < n && i < nf*nl; i++ {
		add(p.first[(i*7)%nf] + " " + p.last[(i*13+i/nf)%nl])
	}
	for i := 2; len(names) < n; i++ {
		add(defaultSalespeople[i%len(defaultSalespeople)] + " " + strconv.Itoa(i))
	}
	return names
}
