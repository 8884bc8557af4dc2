using System.Text.Json;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// Parses and validates a create-job body the way a Go service would: keys matched case-insensitively, unknown keys
/// ignored, <c>Render: true</c> taken as <c>{}</c>, <c>SessionID</c> as string or number, and the plugin key read
/// from any of <c>Key</c>, <c>Name</c>, <c>Type</c>, <c>Path</c>, <c>Plugin</c> (its real name is unconfirmed).
/// </summary>
internal static class CreateJobParser
{
    public const int MaxEntries = 1000;

    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "HEAD", "DELETE"];
    private static readonly string[] Devices = ["desktop", "mobile", "tablet"];
    private static readonly string[] Outputs = ["raw", "markdown"];
    private static readonly string[] WaitUntils = ["domcontentloaded", "networkidle0", "networkidle2"];
    private static readonly string[] PluginKeyNames = ["key", "name", "type", "path", "plugin"];

    private static readonly Dictionary<string, string[]> RequiredPluginParams = new(StringComparer.Ordinal)
    {
        ["amazon/pdp"] = ["asin", "geocode", "zipcode"],
        ["amazon/search"] = ["keyword", "geocode", "zipcode"],
        ["amazon/offer-listing"] = ["asin", "geocode", "zipcode"],
        ["amazon/"] = ["url"],
        ["google/search"] = ["q"],
        ["google/trends"] = ["q"],
    };

    /// <summary>Returns the request, or sets <paramref name="error"/> to the 400 message.</summary>
    public static JobRequest? Parse(JsonDocument document, EmulatorOptions options, out string? error)
    {
        error = null;
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "Request body must be a JSON object.";
            return null;
        }

        Dictionary<string, JsonElement> fields = Fields(root);
        var request = new JobRequest { Document = document };

        if (fields.TryGetValue("plugin", out JsonElement plugin) && plugin.ValueKind != JsonValueKind.Null)
        {
            error = ParsePlugin(plugin, request);
            if (error is not null)
            {
                return null;
            }
        }

        if (fields.TryGetValue("targets", out JsonElement targets) && targets.ValueKind != JsonValueKind.Null)
        {
            if (request.PluginKey is not null)
            {
                error = "Provide either Targets or Plugin, not both.";
                return null;
            }

            if (targets.ValueKind != JsonValueKind.Array)
            {
                error = "Targets must be an array of URLs.";
                return null;
            }

            int i = 0;
            foreach (JsonElement t in targets.EnumerateArray())
            {
                if (t.ValueKind != JsonValueKind.String || !IsHttpUrl(t.GetString()!))
                {
                    error = $"Targets[{i}] is not a valid http(s) URL.";
                    return null;
                }

                request.Targets.Add(t.GetString()!);
                i++;
            }
        }

        if (request.TaskCount == 0)
        {
            error = "No targets: provide Targets or Plugin.Params.";
            return null;
        }

        if (request.TaskCount > MaxEntries)
        {
            error = $"Too many targets: {request.TaskCount} (maximum {MaxEntries} per job).";
            return null;
        }

        error = Enum(fields, "method", Methods, upper: true)
            ?? Enum(fields, "device", Devices)
            ?? Enum(fields, "output", Outputs)
            ?? Range(fields, "timeout", options.TimeoutRange)
            ?? Range(fields, "retrytimeout", options.RetryTimeoutRange)
            ?? TypeCheck(fields, "geocode", JsonValueKind.String)
            ?? TypeCheck(fields, "regionalgeocode", JsonValueKind.String)
            ?? TypeCheck(fields, "body", JsonValueKind.String)
            ?? TypeCheck(fields, "setcookies", JsonValueKind.String)
            ?? Bool(fields, "super") ?? Bool(fields, "forwardheaders") ?? Bool(fields, "disableretry")
            ?? Bool(fields, "transparentresponse") ?? Bool(fields, "disableredirection")
            ?? StringMap(fields, "headers", null)
            ?? StringMap(fields, "webhookheaders", request.WebhookHeaders);
        if (error is not null)
        {
            return null;
        }

        if (NonEmptyString(fields, "geocode") && NonEmptyString(fields, "regionalgeocode"))
        {
            // The sync docs: a regional geo code is not combined with a country one (async-api.md §4).
            error = "GeoCode and RegionalGeoCode cannot be combined; set one.";
            return null;
        }

        if (fields.TryGetValue("sessionid", out JsonElement session) && session.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
        {
            error = "SessionID must be a string or a number.";
            return null;
        }

        request.Super = fields.TryGetValue("super", out JsonElement sup) && sup.ValueKind == JsonValueKind.True;
        request.Output = fields.TryGetValue("output", out JsonElement output) && output.ValueKind == JsonValueKind.String ? output.GetString() : null;

        if (fields.TryGetValue("render", out JsonElement render))
        {
            error = ParseRender(render, request);
            if (error is not null)
            {
                return null;
            }
        }

        if (fields.TryGetValue("webhookurl", out JsonElement hook) && hook.ValueKind != JsonValueKind.Null)
        {
            if (hook.ValueKind != JsonValueKind.String || !IsHttpUrl(hook.GetString()!))
            {
                error = "WebhookURL is not a valid http(s) URL.";
                return null;
            }

            request.WebhookUrl = hook.GetString();
        }

        request.CostPerTask = Billing.CostPerTask(options, request);
        return request;
    }

    private static string? ParsePlugin(JsonElement plugin, JobRequest request)
    {
        if (plugin.ValueKind != JsonValueKind.Object)
        {
            return "Plugin must be an object.";
        }

        Dictionary<string, JsonElement> fields = Fields(plugin);
        string? key = null;
        foreach (string name in PluginKeyNames)
        {
            if (fields.TryGetValue(name, out JsonElement k) && k.ValueKind == JsonValueKind.String)
            {
                key = k.GetString();
                break;
            }
        }

        if (string.IsNullOrWhiteSpace(key) || !IsPluginKey(key))
        {
            return "Plugin key is missing or invalid (expected e.g. \"amazon/pdp\").";
        }

        if (!fields.TryGetValue("params", out JsonElement ps) || ps.ValueKind != JsonValueKind.Array)
        {
            return "Plugin.Params must be an array of parameter objects.";
        }

        RequiredPluginParams.TryGetValue(key, out string[]? required);
        int i = 0;
        foreach (JsonElement p in ps.EnumerateArray())
        {
            if (p.ValueKind != JsonValueKind.Object)
            {
                return $"Plugin.Params[{i}] must be an object.";
            }

            foreach (string r in required ?? [])
            {
                if (!p.TryGetProperty(r, out JsonElement v) || v.ValueKind is JsonValueKind.Null || (v.ValueKind == JsonValueKind.String && v.GetString()!.Length == 0))
                {
                    return $"Plugin.Params[{i}] is missing required parameter '{r}' for plugin {key}.";
                }
            }

            request.PluginParams.Add(p);
            i++;
        }

        request.PluginKey = key;
        return null;
    }

    private static bool NonEmptyString(Dictionary<string, JsonElement> fields, string name) =>
        fields.TryGetValue(name, out JsonElement value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0;

    private static string? ParseRender(JsonElement render, JobRequest request)
    {
        switch (render.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.False:
                return null;
            case JsonValueKind.True:
                request.Render = true;
                return null;
            case JsonValueKind.Object:
                request.Render = true;
                Dictionary<string, JsonElement> fields = Fields(render);
                string? error = Enum(fields, "waituntil", WaitUntils) ?? Range(fields, "customwait", (0, ScrapeDo.Lean.Internal.JobOptionBounds.CustomWaitMaxMs));
                if (error is not null)
                {
                    return "In Render: " + error;
                }

                int shots = (fields.TryGetValue("screenshot", out JsonElement s) && s.ValueKind == JsonValueKind.True ? 1 : 0)
                    + (fields.TryGetValue("fullscreenshot", out JsonElement f) && f.ValueKind == JsonValueKind.True ? 1 : 0)
                    + (fields.TryGetValue("particularscreenshot", out JsonElement ps) && ps.ValueKind == JsonValueKind.String && ps.GetString()!.Length > 0 ? 1 : 0);
                if (shots > 1)
                {
                    return "Render: only one of Screenshot, FullScreenshot and ParticularScreenshot may be set.";
                }

                if (fields.TryGetValue("playwithbrowser", out JsonElement play) && play.ValueKind != JsonValueKind.Null)
                {
                    if (play.ValueKind != JsonValueKind.Array)
                    {
                        return "Render.PlayWithBrowser must be an array.";
                    }

                    int i = 0;
                    foreach (JsonElement action in play.EnumerateArray())
                    {
                        if (action.ValueKind != JsonValueKind.Object || !Fields(action).TryGetValue("action", out JsonElement a) || a.ValueKind != JsonValueKind.String)
                        {
                            return $"Render.PlayWithBrowser[{i}] needs an Action string.";
                        }

                        i++;
                    }
                }

                return null;
            default:
                return "Render must be an object.";
        }
    }

    private static Dictionary<string, JsonElement> Fields(JsonElement obj)
    {
        var fields = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (JsonProperty p in obj.EnumerateObject())
        {
            fields[p.Name] = p.Value;
        }

        return fields;
    }

    private static string? Enum(Dictionary<string, JsonElement> fields, string name, string[] allowed, bool upper = false)
    {
        if (!fields.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string? s = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (s is not null && (upper ? allowed.Contains(s.ToUpperInvariant()) : allowed.Contains(s)))
        {
            return null;
        }

        return $"Invalid value for {Pretty(name)}: expected one of {string.Join(", ", allowed)}.";
    }

    private static string? Range(Dictionary<string, JsonElement> fields, string name, (int Min, int Max) range)
    {
        if (!fields.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long n) || n < range.Min || n > range.Max)
        {
            return $"Invalid {Pretty(name)}: must be an integer between {range.Min} and {range.Max}.";
        }

        return null;
    }

    private static string? Bool(Dictionary<string, JsonElement> fields, string name) =>
        fields.TryGetValue(name, out JsonElement v) && v.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null)
            ? $"{Pretty(name)} must be a boolean."
            : null;

    private static string? TypeCheck(Dictionary<string, JsonElement> fields, string name, JsonValueKind kind) =>
        fields.TryGetValue(name, out JsonElement v) && v.ValueKind != kind && v.ValueKind != JsonValueKind.Null
            ? $"{Pretty(name)} must be a {kind.ToString().ToLowerInvariant()}."
            : null;

    private static string? StringMap(Dictionary<string, JsonElement> fields, string name, Dictionary<string, string>? into)
    {
        if (!fields.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Object)
        {
            return $"{Pretty(name)} must be an object of strings.";
        }

        foreach (JsonProperty p in v.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                return $"{Pretty(name)}.{p.Name} must be a string.";
            }

            string value = p.Value.GetString()!;
            if (p.Name.Length == 0 || p.Name.AsSpan().IndexOfAny("\r\n: ") >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                return $"{Pretty(name)} contains an invalid header name or value.";
            }

            if (into is not null)
            {
                into[p.Name] = value;
            }
        }

        return null;
    }

    private static bool IsHttpUrl(string s) =>
        Uri.TryCreate(s, UriKind.Absolute, out Uri? u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && u.Host.Length > 0;

    private static bool IsPluginKey(string key)
    {
        if (key.Length > 100 || key[0] == '/')
        {
            return false;
        }

        foreach (char c in key)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '/' or '-' or '_'))
            {
                return false;
            }
        }

        return key.Contains('/');
    }

    private static string Pretty(string lower) => lower switch
    {
        "method" => "Method",
        "device" => "Device",
        "output" => "Output",
        "timeout" => "Timeout",
        "retrytimeout" => "RetryTimeout",
        "waituntil" => "WaitUntil",
        "customwait" => "CustomWait",
        "headers" => "Headers",
        "webhookheaders" => "WebhookHeaders",
        "geocode" => "GeoCode",
        "regionalgeocode" => "RegionalGeoCode",
        _ => lower,
    };
}
