/* natsim fuzz target: scenario files.
 *
 * The input is a scenario INI file.  It is loaded with
 * natsim_scenario_load_data(); each comment line of the form
 *   #set GROUP.KEY=VALUE
 * (at most 8) is then applied with natsim_scenario_set(), as --set does,
 * and the result validated.  A valid scenario is also copied and echoed
 * as JSON, and the file is loaded once more through
 * natsim_scenario_load_data_with_overrides() with the same assignments. */
#include <string.h>

#include <json-glib/json-glib.h>

#include "fuzz.h"
#include "natsim/report.h"
#include "natsim/scenario.h"

#define MAX_SETS 8

static void
exercise (NatsimScenario *s)
{
  g_autoptr (NatsimScenario) copy = natsim_scenario_copy (s);
  g_autoptr (JsonNode) json = natsim_scenario_config_to_json (copy);
  g_autofree char *text = json_to_string (json, FALSE);

  fuzz_assert (text != NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimScenario) s2 = NULL;
  g_autoptr (GError) error = NULL;
  const char *p = (const char *) data, *end = p + size;

  fuzz_setup ();

  /* The assignments: "#set " lines, up to the end of the line. */
  while (p < end && sets->len < MAX_SETS)
    {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      const char *eol = nl != NULL ? nl : end;

      if (eol - p > 5 && memcmp (p, "#set ", 5) == 0)
        g_ptr_array_add (sets, g_strndup (p + 5, (gsize) (eol - p - 5)));
      p = nl != NULL ? nl + 1 : end;
    }

  s = natsim_scenario_load_data ((const char *) data, size, "fuzz.ini", &error);
  if (s == NULL)
    {
      fuzz_assert (error != NULL && error->message != NULL);
      return 0;
    }
  for (guint i = 0; i < sets->len; i++)
    {
      g_autoptr (GError) set_error = NULL;

      if (!natsim_scenario_set (s, g_ptr_array_index (sets, i), &set_error))
        fuzz_assert (set_error != NULL);
    }
  if (natsim_scenario_validate (s, &error))
    exercise (s);
  else
    fuzz_assert (error != NULL);
  g_clear_error (&error);

  if (sets->len > 0)
    {
      g_ptr_array_add (sets, NULL);
      s2 = natsim_scenario_load_data_with_overrides ((const char *) data, size,
                                                     "fuzz.ini",
                                                     (const char *const *) sets->pdata,
                                                     &error);
      if (s2 != NULL)
        exercise (s2);
      else
        fuzz_assert (error != NULL);
    }
  return 0;
}
