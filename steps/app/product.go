package app

import "path"

// ConfigKind is where a product keeps its proxy settings.
type ConfigKind int

const (
	// ServerXML: Tomcat's server.xml under the install (Jira, Confluence, Bamboo).
	ServerXML ConfigKind = iota
	// BitbucketProperties: <home>/shared/bitbucket.properties (Bitbucket 5.0 and later).
	BitbucketProperties
	// FecruConfig: Fisheye/Crucible's config.xml in FISHEYE_INST (<web-server>, <http>; Jetty).
	FecruConfig
	// CrowdTomcat: the Connector in <install>/apache-tomcat/conf/server.xml; the context path is
	// the name of the context file in apache-tomcat/conf/Catalina/localhost (crowd.xml = /crowd,
	// ROOT.xml = /: the guide's "Removing the 'crowd' Context from the Application URL").
	CrowdTomcat
)

// Product is what frontdoor knows of one Atlassian product.
type Product struct {
	Name      string
	Port      int    // the HTTP port it ships with
	Install   string // default install directory
	Home      string // default home directory
	Config    ConfigKind
	ConfigRel string // the config file, relative to the install (ServerXML) or the home
	Start     string // start script, relative to the install
	Stop      string // stop script, relative to the install
	// SynchronyPort is Confluence's Synchrony (collaborative editing) port; 0: none.
	SynchronyPort int
	// BaseURLAPI says how the Base URL is read (and set) through REST; "" when the product has
	// no documented API: AdminPage then tells the admin where to set it.
	BaseURLAPI string
	AdminPage  string
	// WinInstall, WinHome are the Windows installer's defaults (native paths).
	WinInstall, WinHome string
}

// Products are the products frontdoor configures.
var Products = map[string]Product{
	"jira": {
		Name: "jira", Port: 8080, Install: "/opt/atlassian/jira", Home: "/var/atlassian/application-data/jira",
		Config: ServerXML, ConfigRel: "conf/server.xml", Start: "bin/start-jira.sh", Stop: "bin/stop-jira.sh",
		BaseURLAPI: "jira",
		AdminPage:  "Administration > System > General configuration > Edit settings > Base URL",
		WinInstall: `C:\Program Files\Atlassian\JIRA`, WinHome: `C:\Program Files\Atlassian\Application Data\JIRA`,
	},
	"confluence": {
		Name: "confluence", Port: 8090, Install: "/opt/atlassian/confluence", Home: "/var/atlassian/application-data/confluence",
		Config: ServerXML, ConfigRel: "conf/server.xml", Start: "bin/start-confluence.sh", Stop: "bin/stop-confluence.sh",
		SynchronyPort: 8091,
		AdminPage:     "General Configuration > Site Configuration > Server Base URL",
		WinInstall:    `C:\Program Files\Atlassian\Confluence`, WinHome: `C:\Program Files\Atlassian\Application Data\Confluence`,
	},
	"crowd": {
		Name: "crowd", Port: 8095, Install: "/opt/atlassian/crowd", Home: "/var/atlassian/application-data/crowd",
		Config: CrowdTomcat, ConfigRel: "apache-tomcat/conf/server.xml", Start: "start_crowd.sh", Stop: "stop_crowd.sh",
		AdminPage:  "Administration > General > Base URL",
		WinInstall: `C:\Program Files\Atlassian\Crowd`, WinHome: `C:\Program Files\Atlassian\Application Data\Crowd`,
	},
	"fisheye":  fecru("fisheye"),
	"crucible": fecru("crucible"),
	"bamboo": {
		Name: "bamboo", Port: 8085, Install: "/opt/atlassian/bamboo", Home: "/var/atlassian/application-data/bamboo",
		Config: ServerXML, ConfigRel: "conf/server.xml", Start: "bin/start-bamboo.sh", Stop: "bin/stop-bamboo.sh",
		AdminPage:  "Bamboo administration > System > General configuration > Base URL",
		WinInstall: `C:\Program Files\Bamboo`, WinHome: `C:\Program Files\Bamboo\home`,
	},
	"bitbucket": {
		Name: "bitbucket", Port: 7990, Install: "/opt/atlassian/bitbucket", Home: "/var/atlassian/application-data/bitbucket",
		Config: BitbucketProperties, ConfigRel: "shared/bitbucket.properties", Start: "bin/start-bitbucket.sh", Stop: "bin/stop-bitbucket.sh",
		AdminPage:  "Administration > Server settings > Base URL",
		WinInstall: `C:\Atlassian\Bitbucket`, WinHome: `C:\Atlassian\ApplicationData\Bitbucket`,
	},
}

// ConfigPath is the product's configuration file for an install and home.
func (p Product) ConfigPath(install, home string) string {
	if p.Config == BitbucketProperties || p.Config == FecruConfig {
		return path.Join(home, p.ConfigRel)
	}
	return path.Join(install, p.ConfigRel)
}

// fecru is Fisheye or Crucible: one product (FeCru) under two names; config.xml lives in
// FISHEYE_INST (the home here), start and stop are bin/start.sh and bin/stop.sh.
func fecru(name string) Product {
	return Product{
		Name: name, Port: 8060, Install: "/opt/atlassian/fecru", Home: "/var/atlassian/application-data/fisheye",
		Config: FecruConfig, ConfigRel: "config.xml", Start: "bin/start.sh", Stop: "bin/stop.sh",
		AdminPage:  "Administration > Global Settings > Server > Web Server (proxy host, port, scheme and Site URL)",
		WinInstall: `C:\fecru`, WinHome: `C:\fecru-data`,
	}
}
