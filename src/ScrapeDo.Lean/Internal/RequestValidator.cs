namespace ScrapeDo.Lean.Internal;

/// <summary>
/// Checks a create-job request before anything is sent, with messages that name the field and the entry.
/// Only rules the documentation states are enforced; value ranges it leaves to the server (Timeout bounds, enum
/// values the client may not know yet) are not.
/// </summary>
internal static class RequestValidator
{
    public static void Validate(CreateJobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        bool hasTargets = request.Targets is { Count: > 0 };
        if (request.Plugin is not null && request.Targets is not null)
        {
            throw new ArgumentException("CreateJobRequest sets both Targets and Plugin; a job is either a URL job or a plugin job.", nameof(request));
        }

        if (request.Plugin is { } plugin)
        {
            if (plugin.Params.Count == 0)
            {
                throw new ArgumentException("CreateJobRequest.Plugin.Params is empty; give 1 to 1000 parameter sets.", nameof(request));
            }

            if (plugin.Params.Count > CreateJobRequest.MaxTargetsPerJob)
            {
                throw new ArgumentException($"CreateJobRequest.Plugin.Params has {plugin.Params.Count} entries; the API accepts at most {CreateJobRequest.MaxTargetsPerJob} per job.", nameof(request));
            }

            for (int i = 0; i < plugin.Params.Count; i++)
            {
                if (plugin.Params[i] is null)
                {
                    throw new ArgumentException($"CreateJobRequest.Plugin.Params[{i}] is null.", nameof(request));
                }
            }
        }
        else if (!hasTargets)
        {
            throw new ArgumentException("CreateJobRequest.Targets is empty; give 1 to 1000 absolute http(s) URLs, or a Plugin.", nameof(request));
        }
        else
        {
            IReadOnlyList<string> targets = request.Targets!;
            if (targets.Count > CreateJobRequest.MaxTargetsPerJob)
            {
                throw new ArgumentException($"CreateJobRequest.Targets has {targets.Count} URLs; the API accepts at most {CreateJobRequest.MaxTargetsPerJob} per job (the runner chunks larger inputs).", nameof(request));
            }

            for (int i = 0; i < targets.Count; i++)
            {
                if (TargetProblem(targets[i]) is { } problem)
                {
                    throw new ArgumentException($"CreateJobRequest.Targets[{i}] {problem}", nameof(request));
                }
            }
        }

        if (!string.IsNullOrEmpty(request.GeoCode) && !string.IsNullOrEmpty(request.RegionalGeoCode))
        {
            throw new ArgumentException("CreateJobRequest sets both GeoCode and RegionalGeoCode; choose one.", nameof(request));
        }

        if (request.Timeout is < 0 || request.RetryTimeout is < 0)
        {
            throw new ArgumentException($"CreateJobRequest.{(request.Timeout is < 0 ? "Timeout" : "RetryTimeout")} is negative; it is a duration in milliseconds.", nameof(request));
        }

        CheckHeaders(request.Headers, "Headers");
        CheckHeaders(request.WebhookHeaders, "WebhookHeaders");
        if (request.WebhookUrl is { } hook && !IsHttpUrl(hook))
        {
            throw new ArgumentException($"CreateJobRequest.WebhookUrl '{Shorten(hook)}' is not an absolute http(s) URL.", nameof(request));
        }

        if (request.Render is { } render)
        {
            int screenshots = (render.Screenshot == true ? 1 : 0) + (render.FullScreenshot == true ? 1 : 0) + (string.IsNullOrEmpty(render.ParticularScreenshot) ? 0 : 1);
            if (screenshots > 1)
            {
                throw new ArgumentException("CreateJobRequest.Render sets more than one of Screenshot, FullScreenshot and ParticularScreenshot; the API takes one.", nameof(request));
            }

            if (render.CustomWait is < 0)
            {
                throw new ArgumentException("CreateJobRequest.Render.CustomWait is negative.", nameof(request));
            }
        }
    }

    /// <summary>Why <paramref name="target"/> cannot be a target, or null when it can.</summary>
    public static string? TargetProblem(string? target)
    {
        if (string.IsNullOrWhiteSpace(target))
        {
            return "is empty.";
        }

        if (target.Length > 8192)
        {
            return $"is {target.Length} characters long; the limit is 8192.";
        }

        foreach (char c in target)
        {
            if (char.IsControl(c) || c == ' ')
            {
                return $"'{Shorten(target)}' contains whitespace or a control character.";
            }
        }

        return IsHttpUrl(target) ? null : $"'{Shorten(target)}' is not an absolute http(s) URL.";
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out Uri? uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host);

    private static void CheckHeaders(IReadOnlyDictionary<string, string>? headers, string field)
    {
        if (headers is null)
        {
            return;
        }

        foreach ((string name, string value) in headers)
        {
            if (string.IsNullOrEmpty(name) || !IsToken(name))
            {
                throw new ArgumentException($"CreateJobRequest.{field} has an invalid header name '{Shorten(name ?? string.Empty)}'.", field);
            }

            if (value is null || value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                throw new ArgumentException($"CreateJobRequest.{field}['{name}'] contains CR, LF or NUL (header injection) or is null.", field);
            }
        }
    }

    private static bool IsToken(string name)
    {
        foreach (char c in name)
        {
            if (c <= 0x20 || c >= 0x7F || "()<>@,;:\\\"/[]?={}".Contains(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string Shorten(string value) => value.Length <= 80 ? value : string.Concat(value.AsSpan(0, 77), "...");
}
