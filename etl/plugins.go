package etl

import (
	"errors"
	"fmt"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
)

// plugins are the run's connectors, built before anything is read so that a
// config mistake fails the run at once.
type plugins struct {
	sourceNames, destNames []string
	sources                []connectors.Source
	dests                  []connectors.Destination
}

func newPlugins(cfg *config.Config) (*plugins, error) {
	p := &plugins{}
	var errs []error
	var built []connectors.ConfiguredSource
	for _, c := range cfg.Sources {
		src, err := connectors.NewSource(c, cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.sourceNames = append(p.sourceNames, c.Name)
		p.sources = append(p.sources, src)
		built = append(built, connectors.ConfiguredSource{Plugin: c, Source: src})
	}
	// Two KPI sources of one GA4 property would count its events twice.
	errs = append(errs, connectors.CheckGA4Properties(built)...)
	targets := map[string]config.Plugin{}
	for _, c := range cfg.Destinations {
		dst, err := connectors.NewDestination(c, cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t, ok := dst.(connectors.Targeter); ok {
			if other, dup := targets[t.Target()]; dup {
				errs = append(errs, c.PluginErrorf("kind", "destinations %s and %s both publish to %s: they would replace each other's tables; keep one",
					other.Name, c.Name, t.Target()))
			}
			targets[t.Target()] = c
		}
		p.destNames = append(p.destNames, c.Name)
		p.dests = append(p.dests, dst)
	}
	return p, errors.Join(errs...)
}

// describe lists the destinations as "name: where".
func (p *plugins) describe() []string {
	var out []string
	for i, d := range p.dests {
		where := fmt.Sprintf("%T", d)
		if ds, ok := d.(connectors.Describer); ok {
			where = ds.Describe()
		}
		out = append(out, p.destNames[i]+": "+where)
	}
	return out
}

// setupWarnings are warnings about the config as a whole: a setup that
// runs, but cannot give what its users expect.
func setupWarnings(cfg *config.Config) []string {
	for _, s := range cfg.Sources {
		if s.Kind == "csvexport" {
			return nil
		}
	}
	return []string{"no establishments export (a source of kind csvexport): without it uptake knows no customers, " +
		"so the customer, salesperson and usage KPI tables stay empty; add the platform's exports (docs/configuration.md, Source kind: csvexport)"}
}

// CheckConfig builds every connector of cfg and its jobs, reading no
// input: what `uptake validate --config-only` reports. It returns the
// config's warnings and every problem found.
func CheckConfig(cfg *config.Config) ([]string, error) {
	_, err := newPlugins(cfg)
	if _, jerr := Jobs(cfg); jerr != nil {
		err = errors.Join(err, jerr)
	}
	return setupWarnings(cfg), err
}
