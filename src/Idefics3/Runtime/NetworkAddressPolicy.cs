using System.Net;
using System.Net.Sockets;

namespace Idefics3.Runtime;

/// <summary>
/// Which network addresses image downloads may reach. Loopback, link-local (which includes cloud metadata services such
/// as 169.254.169.254), private (RFC 1918, IPv6 unique-local), carrier-grade NAT, multicast and unspecified addresses are
/// blocked unless the caller allows private networks: a prompt that names an internal URL must not make the service
/// fetch it (server-side request forgery).
/// </summary>
internal static class NetworkAddressPolicy
{
    /// <summary>Whether <paramref name="address"/> is one a download must not reach by default.</summary>
    /// <param name="address">The address (IPv4-mapped IPv6 addresses are judged as IPv4).</param>
    /// <returns>True for loopback, link-local, private, CGNAT, multicast, broadcast and unspecified addresses.</returns>
    public static bool IsBlocked(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            byte[] b = address.GetAddressBytes();
            return b[0] == 0 // "this network"
                || b[0] == 10
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
                || b[0] >= 224; // multicast and reserved
        }

        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
    }

    /// <summary>Whether the URI's host is a literal blocked address or <c>localhost</c> (names are not resolved here).</summary>
    /// <param name="uri">The URI about to be requested.</param>
    /// <param name="address">The blocked host, when blocked.</param>
    /// <returns>True when blocked.</returns>
    public static bool IsBlockedHost(Uri uri, out string address)
    {
        string host = uri.IdnHost;
        address = host;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip) && IsBlocked(ip))
        {
            address = ip.ToString();
            return true;
        }

        return false;
    }

    /// <summary>Whether the URI's host is a literal link-local address (169.254.0.0/16, fe80::/10: cloud metadata services).</summary>
    /// <param name="uri">The URI.</param>
    /// <returns>True for a link-local literal.</returns>
    public static bool IsLinkLocalHost(Uri uri)
    {
        if (!IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out IPAddress? ip))
        {
            return false;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        return ip.IsIPv6LinkLocal || (ip.AddressFamily == AddressFamily.InterNetwork && ip.GetAddressBytes() is [169, 254, ..]);
    }
}
