using System.Diagnostics.CodeAnalysis;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// Trimming feature switches of the emulator. HTTPS serving links Kestrel's TLS stack (about 0.6 MB of the native AOT
/// <c>scrapedo</c>, which embeds the emulator but never serves HTTPS), so the CLI switches it off with a
/// <c>RuntimeHostConfigurationOption</c> marked <c>Trim="true"</c>; everywhere else it is on.
/// </summary>
internal static class EmulatorFeatures
{
    public const string HttpsName = "ScrapeDo.Lean.Emulator.Https.IsSupported";

    [FeatureSwitchDefinition(HttpsName)]
    public static bool IsHttpsSupported { get; } = !AppContext.TryGetSwitch(HttpsName, out bool enabled) || enabled;
}
