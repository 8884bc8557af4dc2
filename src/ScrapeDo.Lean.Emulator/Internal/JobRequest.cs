using System.Text.Json;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>A validated create-job body, reduced to what the emulator acts on.</summary>
internal sealed class JobRequest
{
    public List<string> Targets { get; } = [];
    public string? PluginKey { get; set; }
    public List<JsonElement> PluginParams { get; } = [];
    public bool Super { get; set; }
    public bool Render { get; set; }
    public string? Output { get; set; }
    public string? WebhookUrl { get; set; }
    public Dictionary<string, string> WebhookHeaders { get; } = new(StringComparer.OrdinalIgnoreCase);

    // Keeps the parsed document (and so the plugin params' JsonElements) alive for the job's lifetime.
    public JsonDocument? Document { get; set; }

    public int TaskCount => PluginKey is null ? Targets.Count : PluginParams.Count;

    /// <summary>Credits a successful task costs, by the credit table (set by the parser; see <see cref="Billing"/>).</summary>
    public int CostPerTask { get; set; } = 1;
}
