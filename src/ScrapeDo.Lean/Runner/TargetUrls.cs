using System.Text.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// What URL a task reports for the target it was given, in one place: the comparison of a sent URL with a reported
/// one, the URL the server builds for a plugin task, and the alignment of a job's tasks with a chunk's targets by URL.
/// </summary>
/// <remarks>
/// How certain this is (see async-api.md §4.1, §6.2, §8, §9): a task's <c>URL</c> is documented as "the target URL";
/// that <c>TaskIDs[i]</c> belongs to <c>Targets[i]</c> is only inferred, which is why results are checked by URL. For
/// plugin tasks the reference says only that <c>URL</c> is "the URL Scrape.do built/used" (inferred); the shapes in
/// <see cref="ForPlugin(string, JsonElement)"/> are our best reading of the sync plugin routes (the same ones the emulator builds), not
/// verified against the live service. A key not listed there has no known URL, and the runner then never adopts a
/// job on its task count alone.
/// </remarks>
internal static class TargetUrls
{
    /// <summary>Whether a task that reports <paramref name="reported"/> is the target <paramref name="sent"/>.</summary>
    public static bool Same(string sent, string reported) =>
        string.Equals(sent, reported, StringComparison.Ordinal) || string.Equals(Normalize(sent), Normalize(reported), StringComparison.Ordinal);

    /// <summary>
    /// The form two URLs are compared in: scheme and host lower-cased, default port and fragment dropped, escapes
    /// decoded. A server that re-encodes or lower-cases the host still reports the same target.
    /// </summary>
    public static string Normalize(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri.GetComponents(UriComponents.HttpRequestUrl, UriFormat.Unescaped)
            : url;

    /// <summary>The URL the server is expected to build for a plugin task, or null when it is not known for this plugin.</summary>
    public static string? ForPlugin(string pluginKey, PluginParams parameters)
    {
        using JsonDocument doc = JsonDocument.Parse(parameters.Utf8Json);
        return ForPlugin(pluginKey, doc.RootElement);
    }

    /// <summary>
    /// The plugin routes, in one place for the runner (which matches tasks by them) and the emulator (which builds its
    /// task URLs by them), so the two cannot drift apart. Null when the key is not known or a parameter it needs is
    /// missing.
    /// </summary>
    public static string? ForPlugin(string pluginKey, JsonElement parameters)
    {
        string? Param(string name) =>
            parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty(name, out JsonElement v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number
                ? Uri.EscapeDataString(v.ToString())
                : null;
        return pluginKey switch
        {
            "amazon/pdp" or "amazon/offer-listing" => Param("asin") is { } asin ? $"https://www.amazon.com/dp/{asin}" : null,
            "amazon/search" => Param("keyword") is { } k ? $"https://www.amazon.com/s?k={k}" : null,
            "amazon/" => Param("url") is { } url ? Uri.UnescapeDataString(url) : null,
            "google/search" => Param("q") is { } q ? $"https://www.google.com/search?q={q}" : null,
            "google/trends" => Param("q") is { } t ? $"https://trends.google.com/trends/explore?q={t}" : null,
            _ => null,
        };
    }

    /// <summary>
    /// A job's task ids in the order of <paramref name="expected"/> (one URL per target), matched by URL whatever
    /// the order of the job's <paramref name="tasks"/>; null when their URLs are not exactly the expected ones.
    /// </summary>
    public static string[]? Align(IReadOnlyList<TaskSummary> tasks, IReadOnlyList<string> expected)
    {
        if (tasks.Count != expected.Count)
        {
            return null;
        }

        // Equal URLs are paired in order, so a chunk that lists one target twice still maps one task to each.
        var byUrl = new Dictionary<string, Queue<string>>(tasks.Count, StringComparer.Ordinal);
        foreach (TaskSummary task in tasks)
        {
            if (task.Url is null)
            {
                return null;
            }

            string key = Normalize(task.Url);
            if (!byUrl.TryGetValue(key, out Queue<string>? ids))
            {
                byUrl[key] = ids = new Queue<string>(1);
            }

            ids.Enqueue(task.TaskId);
        }

        string[] aligned = new string[expected.Count];
        for (int i = 0; i < aligned.Length; i++)
        {
            if (!byUrl.TryGetValue(Normalize(expected[i]), out Queue<string>? ids) || !ids.TryDequeue(out string? id))
            {
                return null;
            }

            aligned[i] = id;
        }

        return aligned;
    }
}
