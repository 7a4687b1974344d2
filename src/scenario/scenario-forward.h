/* natsim: [forward NAME] groups (scenario-forward.c), shared with
 * scenario.c. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "natsim/scenario.h"
#include "scenario-private.h"

#define SCENARIO_FORWARD_PREFIX "forward "

void scenario_forward_free (NatsimForwardSpec *f);
NatsimForwardSpec *scenario_forward_copy (const NatsimForwardSpec *f);

/* Parses one [forward NAME] group into s->forwards. */
gboolean scenario_load_forward (NatsimScenario *s, GKeyFile *kf, const ScanGroup *g,
                                GError **error);

/* Required keys, the public endpoint in @cfg's addresses and port range,
 * no two forwards of one endpoint. */
gboolean scenario_validate_forwards (const NatsimScenario *s, const NatsimNatConfig *cfg,
                                     GError **error);
