using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean.Credits;

/// <summary>The shape of a credit table file; a figure left out keeps its default.</summary>
internal sealed class CreditTableFile
{
    [JsonPropertyName("plain")]
    public int? Plain { get; init; }

    [JsonPropertyName("render")]
    public int? Render { get; init; }

    [JsonPropertyName("super")]
    public int? Super { get; init; }

    [JsonPropertyName("superRender")]
    public int? SuperRender { get; init; }

    [JsonPropertyName("plugins")]
    public Dictionary<string, int>? Plugins { get; init; }
}

/// <summary>Credit table files are read through their own small source-generated context (no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(CreditTableFile))]
internal sealed partial class CreditJsonContext : JsonSerializerContext
{
}

internal static class CreditTableJson
{
    public static CreditTable Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        CreditTableFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, CreditJsonContext.Default.CreditTableFile);
        }
        catch (JsonException ex)
        {
            // The message names the path and position but never a .NET type.
            throw new FormatException($"The credit table is not valid JSON of the expected shape (at {ex.Path ?? "$"}, line {(ex.LineNumber ?? 0) + 1}).", ex);
        }

        if (file is null)
        {
            throw new FormatException("The credit table is empty.");
        }

        CreditTable d = CreditTable.Default;
        var plugins = new Dictionary<string, int>(d.Plugins, StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, int> p in file.Plugins ?? [])
        {
            plugins[p.Key] = p.Value;
        }

        var table = new CreditTable
        {
            Plain = file.Plain ?? d.Plain,
            Render = file.Render ?? d.Render,
            Super = file.Super ?? d.Super,
            SuperRender = file.SuperRender ?? d.SuperRender,
            Plugins = plugins,
        };
        table.Validate();
        return table;
    }
}
