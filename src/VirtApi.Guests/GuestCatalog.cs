using System.Reflection;

namespace VirtApi.Guests;

/// <summary>A guest program shipped with the service.</summary>
/// <param name="Name">Its image name.</param>
/// <param name="Description">What it does (the first comment line of its source).</param>
/// <param name="Source">GNU as source for the QEMU virt board.</param>
public sealed record GuestProgram(string Name, string Description, string Source);

/// <summary>The guest programs in <c>Programs/*.S</c>, embedded in this assembly.</summary>
public static class GuestCatalog
{
    private const string Prefix = "VirtApi.Guests.Programs.";

    public static IReadOnlyList<GuestProgram> All { get; } = Load();

    public static GuestProgram? Find(string name) => All.FirstOrDefault(g => g.Name == name);

    private static List<GuestProgram> Load()
    {
        var assembly = typeof(GuestCatalog).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".S", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => Read(assembly, n))
            .ToList();
    }

    private static GuestProgram Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        var source = reader.ReadToEnd();
        var name = resource[Prefix.Length..^2];
        var first = source.Split('\n')[0].TrimStart('#', ' ').Trim();
        var description = first.StartsWith(name + ":", StringComparison.Ordinal) ? first[(name.Length + 1)..].Trim() : first;
        return new GuestProgram(name, description, source);
    }
}
