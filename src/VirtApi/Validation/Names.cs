using System.Text.RegularExpressions;

namespace VirtApi;

/// <summary>The one naming rule for hosts, devices, images and VMs: an RFC 1123 (section 2.1) DNS label.</summary>
public static partial class Names
{
    /// <summary>Null when <paramref name="name"/> is a valid DNS label, else the reason.</summary>
    public static string? CheckDnsLabel(string? name) =>
        string.IsNullOrEmpty(name) ? "is required"
        : DnsLabel().IsMatch(name) ? null
        : "must be a DNS label: 1-63 lowercase letters, digits or hyphens, starting and ending with a letter or digit";

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
